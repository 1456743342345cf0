package io.tpkernels.layers.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.tpkernels.layers.weights.TensorInfo;
import io.tpkernels.runtime.Tensor;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Coverage-guided fuzzing of the safetensors reader (Jazzer; README, "Fuzzing"): whatever the bytes, the reader
 * either rejects them with one CheckpointException naming the file, or hands out views that lie inside the data,
 * tile it, and read to their last byte. Nothing else may come out: no InternalError, no OutOfMemoryError, no
 * IndexOutOfBounds, no stack overflow. Without {@code JAZZER_FUZZ} each method replays its committed inputs
 * ({@code SafetensorsHeaderFuzzTestInputs/<method>/} in the test resources) as a regression test.
 */
class SafetensorsHeaderFuzzTest {
    private static final String FILE = "fuzz.safetensors";

    /** A whole file: the 8-byte length, the JSON header, the data. */
    @FuzzTest(maxDuration = "2m")
    void file(byte[] input) {
        SafetensorsFile file;
        try {
            file = SafetensorsFile.ofBytes(input, FILE);
        } catch (CheckpointException e) {
            assertNamesTheFileOnOneLine(e);
            return;
        }
        try (file) {
            long data = 0;
            for (String name : file.names()) {
                TensorInfo info = file.info(name);
                Tensor view = file.view(name);
                byte[] bytes = view.hostSegment().toArray(ValueLayout.JAVA_BYTE);
                assertEquals(byteSize(info), bytes.length, name);
                assertTrue(Arrays.equals(info.shape(), view.shape()), name);
                data += bytes.length;
            }
            long headerBytes = ByteBuffer.wrap(input, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(input.length - 8 - headerBytes, data, "the tensors cover the data exactly");
        }
    }

    /**
     * The JSON header alone: the first three bytes are the size of the data section (little-endian, up to 16 MiB),
     * the rest is the header's JSON, so that mutations of the JSON do not have to keep a length field right.
     */
    @FuzzTest(maxDuration = "2m")
    void header(byte[] input) {
        if (input.length < 3) {
            return;
        }
        long dataSize = (input[0] & 0xff) | (input[1] & 0xff) << 8 | (input[2] & 0xff) << 16;
        byte[] json = Arrays.copyOfRange(input, 3, input.length);
        SafetensorsHeader header;
        try {
            header = SafetensorsHeader.parse(json, dataSize, FILE);
        } catch (CheckpointException e) {
            assertNamesTheFileOnOneLine(e);
            return;
        }
        long covered = 0;
        for (SafetensorsHeader.Entry e : header.entries().values()) {
            assertTrue(0 <= e.begin() && e.begin() <= e.end() && e.end() <= dataSize, e.toString());
            assertEquals(byteSize(e.info()), e.end() - e.begin(), e.toString());
            covered += e.end() - e.begin();
        }
        assertEquals(dataSize, covered, "the entries tile the data");
    }

    private static long byteSize(TensorInfo info) {
        return Arrays.stream(info.shape()).reduce(info.dtype().byteSize(), Math::multiplyExact);
    }

    static void assertNamesTheFileOnOneLine(CheckpointException e) {
        assertTrue(e.getMessage().startsWith(FILE), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }
}
