package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.GemmReference;
import io.tpkernels.testing.Poison;
import io.tpkernels.testing.RandomData;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** The plain linear map on the CPU against the double reference, with and without bias. */
class LinearTest {

    @Property(tries = 60)
    void matchesTheDoubleReference(@ForAll @IntRange(min = 1, max = 40) int t, @ForAll @IntRange(min = 1, max = 70) int k,
                                   @ForAll @IntRange(min = 1, max = 50) int n, @ForAll boolean withBias,
                                   @ForAll("floatTypes") DType dtype) {
        check(Device.CPU, dtype, t, k, n, withBias);
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<DType> floatTypes() {
        return net.jqwik.api.Arbitraries.of(DType.F32, DType.F16, DType.BF16);
    }

    /** Compares {@link Linear#forward} on {@code device} with the double reference; shared with the GPU test. */
    static void check(Device device, DType dtype, int t, int k, int n, boolean withBias) {
        float[] xv = RandomData.moderate(t * 31L + k, t * k);
        float[] wv = RandomData.moderate(n * 17L + k, n * k);
        float[] bv = RandomData.moderate(n * 7L + 1, n);
        try (Tensor xh = Tensor.ofFloats(dtype, xv, t, k);
             Tensor wh = Tensor.ofFloats(dtype, wv, n, k);
             Tensor bh = Tensor.ofFloats(dtype, bv, n);
             Tensor x = xh.copyTo(device);
             Tensor w = wh.copyTo(device);
             Tensor b = bh.copyTo(device);
             Tensor y = Poison.poison(Tensor.allocate(device, DType.F32, t, n))) {
            Linear.forward(ExecutionContext.defaultFor(x.device()), x, w, withBias ? b : null, y);
            double[][][] ref = GemmReference.multiplyNT(xh.toFloatArray(), wh.toFloatArray(), t, n, k);
            if (withBias) {
                float[] rounded = bh.toFloatArray();
                for (int i = 0; i < t; i++) {
                    for (int j = 0; j < n; j++) {
                        ref[0][i][j] += rounded[j];
                        ref[1][i][j] += Math.abs(rounded[j]);
                    }
                }
            }
            GemmReference.assertClose(ref, y.toFloatArray(), n, false, dtype + " linear" + (withBias ? " + bias" : ""));
        }
    }

    @Test
    void aBiasOfTheWrongLengthIsRejectedNamingBothShapes() {
        try (Tensor x = Tensor.ofFloats(DType.F32, RandomData.floats(1, 6), 2, 3);
             Tensor w = Tensor.ofFloats(DType.F32, RandomData.floats(2, 12), 4, 3);
             Tensor b = Tensor.ofFloats(DType.F32, RandomData.floats(3, 5), 5)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Linear.forward(ExecutionContext.defaultFor(x.device()), x, w, b));
            assertTrue(e.getMessage().contains("[4]") && e.getMessage().contains("[5]"), e.getMessage());
        }
    }
}
