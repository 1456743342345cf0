package io.tpkernels.layers.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.weights.TensorInfo;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whatever the writer writes, the reader gives back bit for bit: every dtype, any shape, any names and metadata. */
class SafetensorsRoundTripTest {

    /** One tensor to write: a unique name, a dtype, a shape (rank 0 to 4, dimensions 0 to 6), and the seed of its bits. */
    record Spec(String name, DType dtype, long[] shape, long seed) {
    }

    @Provide
    Arbitrary<List<Spec>> tensors() {
        // Any characters but lone surrogates (not text, so not JSON): quotes, backslashes and controls included.
        Arbitrary<String> names = Arbitraries.strings().withCharRange('\u0000', '\uD7FF').ofMinLength(1).ofMaxLength(12)
                .filter(n -> !n.equals(SafetensorsHeader.METADATA_KEY));
        Arbitrary<long[]> shapes = Arbitraries.longs().between(0, 6).array(long[].class).ofMaxSize(4);
        Arbitrary<Spec> spec = Combinators.combine(names, Arbitraries.of(DType.class), shapes, Arbitraries.longs()).as(Spec::new);
        return spec.list().ofMaxSize(8).uniqueElements(Spec::name);
    }

    @Provide
    Arbitrary<Map<String, String>> metadata() {
        Arbitrary<String> text = Arbitraries.strings().withCharRange('\u0000', '\uD7FF').ofMaxLength(20);
        return Arbitraries.maps(text, text).ofMaxSize(4);
    }

    @Property(tries = 150)
    void whatIsWrittenIsReadBackBitForBit(@ForAll("tensors") List<Spec> specs, @ForAll("metadata") Map<String, String> metadata)
            throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        specs.forEach(s -> tensors.put(s.name(), Fixtures.randomTensor(new Random(s.seed()), s.dtype(), s.shape())));
        Path dir = Files.createTempDirectory("tpk-roundtrip");
        try {
            Path file = dir.resolve("model.safetensors");
            SafetensorsWriter.write(file, tensors, metadata);
            try (SafetensorsFile read = SafetensorsFile.open(file)) {
                assertEquals(List.copyOf(tensors.keySet()), List.copyOf(read.names()));
                assertEquals(metadata, read.metadata());
                for (Spec s : specs) {
                    assertEquals(new TensorInfo(s.name(), s.dtype(), s.shape()), read.info(s.name()));
                    Tensor view = read.view(s.name());
                    assertArrayEquals(s.shape(), view.shape());
                    assertEquals(s.dtype(), view.dtype());
                    assertArrayEquals(Fixtures.bytes(tensors.get(s.name())), Fixtures.bytes(view));
                }
            }
            assertEquals(List.of(file), listing(dir), "only the target remains");
        } finally {
            Fixtures.closeAll(tensors);
            deleteTree(dir);
        }
    }

    @Test
    void everyDtypeAsScalarEmptyAndMatrixKeepsItsBits(@TempDir Path dir) {
        Random random = new Random(3);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (DType dtype : DType.values()) {
            tensors.put(dtype + ".scalar", Fixtures.randomTensor(random, dtype));
            tensors.put(dtype + ".empty", Fixtures.randomTensor(random, dtype, 0, 3));
            tensors.put(dtype + ".matrix", Fixtures.randomTensor(random, dtype, 3, 5));
        }
        Path file = dir.resolve("all.safetensors");
        try (SafetensorsFile read = writeAndOpen(file, tensors)) {
            assertEquals(Map.of(), read.metadata());
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                Tensor view = read.view(e.getKey());
                assertEquals(e.getValue().describe(), view.describe(), e.getKey());
                assertArrayEquals(Fixtures.bytes(e.getValue()), Fixtures.bytes(view), e.getKey());
            }
            assertEquals(0, read.view("F32.scalar").rank());
            assertEquals(1, read.view("I64.scalar").numel());
            assertEquals(0, read.view("BF16.empty").byteSize());
        } finally {
            Fixtures.closeAll(tensors);
        }
    }

    @Property(tries = 40)
    void theHeaderIsPaddedWithSpacesSoTheDataStartsAtAMultipleOfEight(@ForAll("tensors") List<Spec> specs) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        specs.forEach(s -> tensors.put(s.name(), Fixtures.randomTensor(new Random(s.seed()), s.dtype(), s.shape())));
        Path dir = Files.createTempDirectory("tpk-padding");
        try {
            Path file = dir.resolve("m.safetensors");
            SafetensorsWriter.write(file, tensors, Map.of());
            byte[] bytes = Files.readAllBytes(file);
            long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, n % 8, "header length " + n);
            String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
            String json = header.stripTrailing();
            assertTrue(json.endsWith("}") && header.substring(json.length()).chars().allMatch(c -> c == ' '), header);
            assertTrue(header.length() - json.length() < 8, "padding shorter than 8 bytes");
            long data = tensors.values().stream().mapToLong(Tensor::byteSize).sum();
            assertEquals(8 + n + data, bytes.length, "data packed after the header in insertion order");
        } finally {
            Fixtures.closeAll(tensors);
            deleteTree(dir);
        }
    }

    @Property(tries = 10)
    void manyThreadsReadOneMappingAtOnce(@ForAll long seed) throws Exception {
        Map<String, Tensor> tensors = Fixtures.randomTensors(new Random(seed), "layer.", 12);
        Path dir = Files.createTempDirectory("tpk-threads");
        ExecutorService ranks = Executors.newFixedThreadPool(8);
        try (SafetensorsFile read = writeAndOpen(dir.resolve("m.safetensors"), tensors)) {
            List<Future<Map<String, byte[]>>> seen = new ArrayList<>();
            for (int rank = 0; rank < 8; rank++) {
                seen.add(ranks.submit(() -> {
                    Map<String, byte[]> bytes = new LinkedHashMap<>();
                    read.names().forEach(name -> bytes.put(name, Fixtures.bytes(read.view(name))));
                    return bytes;
                }));
            }
            for (Future<Map<String, byte[]>> rank : seen) {
                Map<String, byte[]> bytes = rank.get();
                tensors.forEach((name, t) -> assertArrayEquals(Fixtures.bytes(t), bytes.get(name), name));
            }
        } finally {
            ranks.shutdownNow();
            Fixtures.closeAll(tensors);
            deleteTree(dir);
        }
    }

    private static SafetensorsFile writeAndOpen(Path file, Map<String, Tensor> tensors) {
        SafetensorsWriter.write(file, tensors, Map.of());
        return SafetensorsFile.open(file);
    }

    static List<Path> listing(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.sorted().toList();
        }
    }

    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
