package io.tpkernels.layers.checkpoint;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tpkernels.layers.weights.ShardLoader.Split;
import io.tpkernels.layers.weights.ShardLoader;
import io.tpkernels.layers.weights.TensorRead;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.RandomData;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What of a mapped checkpoint stays resident in this process while it is read ({@code Rss} of the file's mapping in
 * Linux's {@code /proc/self/smaps}): what a copy has passed goes, unless another read in flight still covers it, so
 * that a page two ranks read is never dropped under the one still reading it.
 */
class MappedReadsTest {
    private static final int ROWS = 4096;
    private static final int COLS = 2048;
    private static final long BYTES = (long) ROWS * COLS * 4;
    /** What Linux may map around a fault, or a read keep at its edges: two units. */
    private static final long SLACK = 2 * MappedReads.GRANULE;
    private static final Pattern MAPPING = Pattern.compile("[0-9a-f]+-[0-9a-f]+ ");

    @TempDir
    static Path tmp;
    static Path file;

    @BeforeAll
    static void writeCheckpoint() {
        assumeTrue(Files.isReadable(Path.of("/proc/self/smaps")), "reads Linux's /proc/self/smaps");
        file = tmp.resolve("w.safetensors");
        try (Tensor w = Tensor.ofFloats(DType.F32, RandomData.floats(5, ROWS * COLS), ROWS, COLS)) {
            SafetensorsWriter.write(file, Map.of("w", w), Map.of());
        }
    }

    @Test
    void loadingEveryKindOfShardLeavesNothingResident() throws IOException {
        try (SafetensorsFile source = SafetensorsFile.open(file)) {
            for (Split split : Split.values()) {
                ShardLoader.load(source, "w", new long[] {ROWS, COLS}, split, 100, 1000, Device.CPU, DType.F32).close();
                assertTrue(resident() <= SLACK, split + ": " + resident() + " bytes still resident");
            }
        }
    }

    @Test
    void aReadReleasesWhatItPassesWhileTheOtherHalfIsStillToBeRead() throws IOException {
        try (SafetensorsFile source = SafetensorsFile.open(file);
             TensorRead first = source.read("w", 0, BYTES / 2);
             TensorRead second = source.read("w", BYTES / 2, BYTES)) {
            touch(second.view(), BYTES / 2, BYTES);
            touch(first.view(), 0, BYTES / 2);
            first.passed(BYTES / 2);
            assertBetween(BYTES / 2 - SLACK, BYTES / 2 + SLACK, "the second half, not yet passed");
            first.close();
            assertBetween(BYTES / 2 - SLACK, BYTES / 2 + SLACK, "the second half, not yet passed");
            second.passed(BYTES);
            assertBetween(0, SLACK, "nothing");
        }
    }

    @Test
    void pagesTwoReadsCoverGoWhenTheLastHasPassedThem() throws IOException {
        try (SafetensorsFile source = SafetensorsFile.open(file);
             TensorRead ahead = source.read("w", 0, BYTES);
             TensorRead behind = source.read("w", 0, BYTES)) {
            touch(ahead.view(), 0, BYTES);
            ahead.passed(BYTES);
            ahead.close();
            assertBetween(BYTES - SLACK, BYTES + SLACK, "all of it: the other read has passed none");
            touch(behind.view(), 0, BYTES);
            behind.passed(BYTES / 4);
            assertBetween(BYTES * 3 / 4 - SLACK, BYTES * 3 / 4 + SLACK, "what the other read has yet to pass");
            behind.close();
            assertBetween(0, SLACK, "nothing");
        }
    }

    private static void assertBetween(long low, long high, String what) throws IOException {
        long r = resident();
        assertTrue(r >= low && r <= high,
                "resident " + r + " bytes, expected " + what + ": [" + low + ", " + high + "]");
    }

    /** Reads bytes {@code [from, to)} of {@code view}, one per page. */
    private static void touch(Tensor view, long from, long to) {
        MemorySegment s = view.hostSegment();
        long sum = 0;
        for (long at = from; at < to; at += 4096) {
            sum += s.get(ValueLayout.JAVA_BYTE, at);
        }
        assertTrue(sum != Long.MIN_VALUE); // kept, so that the reads are not dropped
    }

    /** The resident bytes of this process's mappings of the checkpoint file. */
    private static long resident() throws IOException {
        String path = file.toRealPath().toString();
        List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        long kB = 0;
        boolean ours = false;
        for (String line : lines) {
            if (MAPPING.matcher(line).lookingAt()) { // a mapping's first line; its fields follow, "Rss:" among them
                ours = line.endsWith(" " + path);
            } else if (ours && line.startsWith("Rss:")) {
                kB += Long.parseLong(line.substring(4).replace("kB", "").trim());
            }
        }
        return kB << 10;
    }
}
