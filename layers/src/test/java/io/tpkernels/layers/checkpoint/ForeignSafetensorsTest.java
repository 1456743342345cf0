package io.tpkernels.layers.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tpkernels.layers.weights.TensorInfo;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files our writer did not make: header order unlike data order, metadata anywhere, any header length. */
class ForeignSafetensorsTest {

    private static long[] longs(Tensor t) {
        long[] out = new long[(int) t.numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = t.dtype().getLong(t.hostSegment(), i);
        }
        return out;
    }

    /** Written by write_reference_file.py (beside it in the test resources); the values are its literals. */
    @Test
    void aFileLaidOutByTheReferenceRulesReadsAsWritten() throws URISyntaxException {
        Path file = Path.of(getClass().getResource("python-reference.safetensors").toURI());
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(Map.of("format", "pt", "source", "write_reference_file.py"), f.metadata());
            assertEquals(List.of("counts", "model.embed_tokens.weight", "model.layers.0.mlp.down_proj.weight",
                    "model.layers.0.mlp.gate_proj.weight", "positions", "scale", "unused"), List.copyOf(f.names()));
            assertEquals(new TensorInfo("model.embed_tokens.weight", DType.BF16, new long[] {2, 3}),
                    f.info("model.embed_tokens.weight"));
            assertArrayEquals(new float[] {1.0f, -2.5f, 0.15625f, 0x1p35f, -0.0f, 7.0f},
                    f.view("model.embed_tokens.weight").toFloatArray());
            assertArrayEquals(new float[] {0.1f, -0.2f, 1.0e-30f, 3.4e38f, -7.25f, 2.0f},
                    f.view("model.layers.0.mlp.down_proj.weight").toFloatArray());
            assertArrayEquals(new float[] {0.5f, -65504.0f, 6.1035156e-05f, 1.0f},
                    f.view("model.layers.0.mlp.gate_proj.weight").toFloatArray());
            assertArrayEquals(new long[] {0, -1, 1L << 40, -(1L << 62), 7}, longs(f.view("positions")));
            assertArrayEquals(new long[] {1, -2, Integer.MAX_VALUE, Integer.MIN_VALUE}, longs(f.view("counts")));
            assertArrayEquals(new long[] {2, 2}, f.view("counts").shape());
            assertEquals(0, f.view("scale").rank());
            assertArrayEquals(new float[] {3.5f}, f.view("scale").toFloatArray());
            assertArrayEquals(new long[] {0, 4}, f.view("unused").shape());
        }
    }

    @Test
    void aHandMadeFileWithEntriesOutOfOrderAndNoPaddingIsAccepted(@TempDir Path dir) {
        // Data: "b" (I32 [2]) first, then "a" (F16 [1]); the header lists "a" first and the metadata last, is spread
        // over lines, and is not padded to a multiple of 8.
        ByteBuffer data = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
        data.putInt(-7).putInt(123456).putShort(DType.floatToF16Bits(-1.5f));
        String header = """
                {
                  'a': {'shape': [1], 'data_offsets': [8, 10], 'dtype': 'F16'},
                  'b': {'data_offsets': [0, 8], 'dtype': 'I32', 'shape': [2]},
                  '__metadata__': {'note': 'hand made \\u00e9'}
                }""";
        byte[] bytes = Fixtures.file(header, data.array());
        assertEquals(1, (bytes.length - data.capacity()) % 8, "the data starts at an odd offset");
        Path file = Fixtures.write(dir.resolve("hand.safetensors"), bytes);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(List.of("a", "b"), List.copyOf(f.names()));
            assertEquals(Map.of("note", "hand made \u00e9"), f.metadata());
            assertArrayEquals(new float[] {-1.5f}, f.view("a").toFloatArray());
            assertArrayEquals(new long[] {-7, 123456}, longs(f.view("b")));
        }
    }
}
