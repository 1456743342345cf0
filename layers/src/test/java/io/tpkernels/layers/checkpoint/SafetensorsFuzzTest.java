package io.tpkernels.layers.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tpkernels.runtime.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Valid files, mutated at random: each must be rejected with a CheckpointException, or open with every view
 * readable to its last byte. Nothing else may escape (no IndexOutOfBounds, no NullPointer, no crash).
 */
class SafetensorsFuzzTest {
    private static final int CASES = 10_000;
    private static final long SEED = 0x5AFE_7E45L;

    @TempDir
    Path dir;

    /** The ways a file is damaged; {@link #COMBINED} chains two or three of the others. */
    enum Mutation {
        LENGTH_FIELD, HEADER_BYTES, HEADER_BITS, JSON_NUMBER, JSON_DTYPE, JSON_CUT, DATA_BYTES, TRUNCATE, APPEND, COMBINED;

        private static final Pattern NUMBER = Pattern.compile("\\d+");
        private static final Pattern DTYPE = Pattern.compile("\"(F32|F16|BF16|I32|I64)\"");
        private static final String[] DTYPES = {"F32", "F16", "BF16", "I32", "I64", "F64", "U8", "BOOL", "", "f32"};

        byte[] apply(byte[] file, Random r) {
            return switch (this) {
                case LENGTH_FIELD -> withLength(file, lengthVariant(file, r));
                case HEADER_BYTES -> changed(file, r, 8, 8 + headerLength(file), b -> (byte) r.nextInt());
                case HEADER_BITS -> changed(file, r, 8, 8 + headerLength(file), b -> (byte) (b ^ (1 << r.nextInt(8))));
                case JSON_NUMBER -> withHeader(file, replaceOne(header(file), NUMBER, r, n -> numberVariant(n, r)));
                case JSON_DTYPE -> withHeader(file, replaceOne(header(file), DTYPE, r, d -> '"' + DTYPES[r.nextInt(DTYPES.length)] + '"'));
                case JSON_CUT -> withHeader(file, cut(header(file), r));
                case DATA_BYTES -> changed(file, r, 8 + headerLength(file), file.length, b -> (byte) r.nextInt());
                case TRUNCATE -> Arrays.copyOf(file, r.nextInt(Math.max(1, file.length)));
                case APPEND -> appended(file, r);
                case COMBINED -> {
                    byte[] f = file;
                    for (int i = 2 + r.nextInt(2); i > 0; i--) {
                        f = values()[r.nextInt(COMBINED.ordinal())].apply(f, r);
                    }
                    yield f;
                }
            };
        }

        private static long lengthVariant(byte[] file, Random r) {
            long n = headerLength(file);
            long[] variants = {n + 1, n - 1, n + 8, n - 8, 0, file.length - 8, file.length - 7, 100_000_001L,
                    Long.MAX_VALUE, -1, Long.MIN_VALUE, r.nextLong(), r.nextInt(file.length + 1)};
            return variants[r.nextInt(variants.length)];
        }

        private static String numberVariant(String n, Random r) {
            String[] variants = {"-" + n, n + "0", "0", "1", n + ".5", "1e3", "18446744073709551616",
                    "9223372036854775807", "4294967296", String.valueOf(r.nextInt(1000)),
                    new BigInteger(n).add(BigInteger.ONE).toString(),
                    new BigInteger(n).subtract(BigInteger.ONE).toString()};
            return variants[r.nextInt(variants.length)];
        }

        private interface ByteChange {
            byte change(byte b);
        }

        /** One to four bytes in {@code [from, to)} changed (the file unchanged if the range is empty). */
        private static byte[] changed(byte[] file, Random r, long from, long to, ByteChange change) {
            byte[] f = file.clone();
            int lo = (int) Math.max(0, Math.min(from, f.length));
            int hi = (int) Math.max(lo, Math.min(to, f.length));
            for (int i = 1 + r.nextInt(4); i > 0 && hi > lo; i--) {
                int at = lo + r.nextInt(hi - lo);
                f[at] = change.change(f[at]);
            }
            return f;
        }

        private static String replaceOne(String text, Pattern pattern, Random r, UnaryOperator<String> variant) {
            List<int[]> spans = new ArrayList<>();
            Matcher m = pattern.matcher(text);
            while (m.find()) {
                spans.add(new int[] {m.start(), m.end()});
            }
            if (spans.isEmpty()) {
                return text;
            }
            int[] s = spans.get(r.nextInt(spans.size()));
            return text.substring(0, s[0]) + variant.apply(text.substring(s[0], s[1])) + text.substring(s[1]);
        }

        private static String cut(String text, Random r) {
            if (text.isEmpty()) {
                return text;
            }
            int from = r.nextInt(text.length());
            int to = Math.min(text.length(), from + 1 + r.nextInt(12));
            return text.substring(0, from) + text.substring(to);
        }

        private static byte[] appended(byte[] file, Random r) {
            byte[] f = Arrays.copyOf(file, file.length + 1 + r.nextInt(64));
            for (int i = file.length; i < f.length; i++) {
                f[i] = (byte) r.nextInt();
            }
            return f;
        }
    }

    /** The header length field read as stored, clamped to the file so that mutations can address the header. */
    private static long headerLength(byte[] file) {
        if (file.length < 8) {
            return 0;
        }
        long n = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return n < 0 || n > file.length - 8 ? file.length - 8 : n;
    }

    private static String header(byte[] file) {
        if (file.length < 8) {
            return "";
        }
        return new String(file, 8, (int) headerLength(file), StandardCharsets.UTF_8);
    }

    private static byte[] withLength(byte[] file, long n) {
        byte[] f = file.clone();
        if (f.length >= 8) {
            ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong(0, n);
        }
        return f;
    }

    /** {@code file} with its header replaced by {@code json} and the length field made to match. */
    private static byte[] withHeader(byte[] file, String json) {
        if (file.length < 8) {
            return file;
        }
        int start = 8 + (int) headerLength(file);
        byte[] data = Arrays.copyOfRange(file, start, file.length);
        return Fixtures.file(json.getBytes(StandardCharsets.UTF_8), data);
    }

    @Test
    void mutatedFilesAreRejectedOrReadToTheEnd() throws IOException {
        Random random = new Random(SEED);
        List<byte[]> valid = validFiles(random, 24);
        Map<Mutation, int[]> outcomes = new EnumMap<>(Mutation.class); // per mutation: {rejected, opened}
        for (Mutation m : Mutation.values()) {
            outcomes.put(m, new int[2]);
        }
        Path file = dir.resolve("fuzzed.safetensors");
        for (int c = 0; c < CASES; c++) {
            long seed = random.nextLong();
            Random r = new Random(seed);
            byte[] original = valid.get(r.nextInt(valid.size()));
            Mutation m = Mutation.values()[r.nextInt(Mutation.values().length)];
            Fixtures.write(file, m.apply(original, r));
            String what = "case " + c + " (" + m + ", seed " + seed + ")";
            try {
                Map<String, byte[]> read = readEverything(file);
                outcomes.get(m)[1]++;
                if (m == Mutation.DATA_BYTES) {
                    Fixtures.write(file, original);
                    assertEquals(readEverything(file).keySet(), read.keySet(), what + ": changed data, same tensors");
                }
            } catch (CheckpointException e) {
                assertTrue(e.getMessage().startsWith(file.toString()), what + ": " + e.getMessage());
                outcomes.get(m)[0]++;
            } catch (RuntimeException | Error e) {
                fail(what + " threw " + e, e);
            }
        }
        for (Mutation m : Mutation.values()) {
            int[] o = outcomes.get(m);
            assertTrue(o[0] + o[1] > CASES / Mutation.values().length / 2, m + " ran " + (o[0] + o[1]) + " times");
        }
        assertEquals(0, outcomes.get(Mutation.TRUNCATE)[1], "a truncated file was accepted");
        assertEquals(0, outcomes.get(Mutation.APPEND)[1], "bytes after the last tensor were accepted");
        assertEquals(0, outcomes.get(Mutation.DATA_BYTES)[0], "a file was rejected for its tensor values");
        assertTrue(outcomes.get(Mutation.JSON_NUMBER)[0] > 0 && outcomes.get(Mutation.JSON_NUMBER)[1] > 0,
                "a changed number is sometimes still a valid file, sometimes not: the mutation reaches the validation");
    }

    /** Opens {@code file} and reads every byte of every view: what a loader would do. */
    private static Map<String, byte[]> readEverything(Path file) {
        Map<String, byte[]> bytes = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (String name : f.names()) {
                Tensor view = f.view(name);
                MemorySegment s = view.hostSegment();
                assertEquals(view.numel() * view.dtype().byteSize(), s.byteSize(), name);
                bytes.put(name, s.toArray(ValueLayout.JAVA_BYTE));
            }
            f.metadata().forEach((k, v) -> assertTrue(k != null && v != null));
        }
        return bytes;
    }

    /** Files from the writer: up to six random tensors each, some with metadata. */
    private List<byte[]> validFiles(Random random, int count) throws IOException {
        List<byte[]> files = new ArrayList<>();
        Path file = dir.resolve("valid.safetensors");
        for (int i = 0; i < count; i++) {
            Map<String, Tensor> tensors = Fixtures.randomTensors(random, "model.layers." + i + ".w", random.nextInt(7));
            try {
                SafetensorsWriter.write(file, tensors, i % 3 == 0 ? Map.of() : Map.of("format", "pt", "step", "" + i));
                files.add(Files.readAllBytes(file));
            } finally {
                Fixtures.closeAll(tensors);
            }
        }
        return files;
    }
}
