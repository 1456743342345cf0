package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Device;
import io.tpkernels.tensor.Tensor;
import io.tpkernels.testing.RandomData;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** The CPU cast against a naive element-by-element reference built from DType's scalar conversions. */
class CastCpuTest {

    private static final DType[] FLOATS = {DType.F32, DType.F16, DType.BF16};

    private static float reference(float x, DType to) {
        return switch (to) {
            case F32 -> x;
            case F16 -> DType.f16BitsToFloat(DType.floatToF16Bits(x));
            case BF16 -> DType.bf16BitsToFloat(DType.floatToBf16Bits(x));
            default -> throw new AssertionError(to);
        };
    }

    @Property(tries = 60)
    void matchesTheScalarReference(@ForAll @IntRange(min = 0, max = 2) int from, @ForAll @IntRange(min = 0, max = 2) int to,
                                   @ForAll @IntRange(min = 0, max = 3000) int n, @ForAll long seed) {
        float[] values = RandomData.floats(seed, n);
        try (Tensor src = Tensor.ofFloats(FLOATS[from], values, n); Tensor dst = Cast.to(src, FLOATS[to])) {
            float[] in = src.toFloatArray();
            float[] out = dst.toFloatArray();
            for (int i = 0; i < n; i++) {
                assertEquals(reference(in[i], FLOATS[to]), out[i], 0f, "element " + i);
            }
        }
    }

    @Test
    void coversEveryElementAcrossParallelBlocks() {
        int n = 3 * 65536 + 7; // several blocks and a ragged tail
        float[] values = RandomData.floats(7, n);
        try (Tensor src = Tensor.ofFloats(DType.F32, values, n);
             Tensor dst = Tensor.allocate(Device.CPU, DType.BF16, n)) {
            dst.fillBytes((byte) 0xFF);
            Cast.into(src, dst);
            float[] out = dst.toFloatArray();
            for (int i = 0; i < n; i++) {
                assertEquals(reference(values[i], DType.BF16), out[i], 0f, "element " + i);
            }
        }
    }

    @Test
    void rejectsMismatchedOrIntegerTensors() {
        try (Tensor a = Tensor.allocate(Device.CPU, DType.F32, 4);
             Tensor b = Tensor.allocate(Device.CPU, DType.BF16, 5);
             Tensor i = Tensor.allocate(Device.CPU, DType.I32, 4)) {
            var e = assertThrows(IllegalArgumentException.class, () -> Cast.into(a, b));
            assertTrue(e.getMessage().contains("[4]") && e.getMessage().contains("[5]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Cast.into(a, i));
        }
    }
}
