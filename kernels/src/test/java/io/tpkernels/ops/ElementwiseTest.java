package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.RandomData;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** The element-wise steps against their definitions in double, rounded once to the dtype. */
class ElementwiseTest {

    @Provide
    Arbitrary<DType> floatTypes() {
        return Arbitraries.of(DType.F32, DType.F16, DType.BF16);
    }

    @Property(tries = 30)
    void siluMulIsGateOverOnePlusExpTimesUp(@ForAll("floatTypes") DType dtype, @ForAll @IntRange(min = 1, max = 300) int n) {
        check(Device.CPU, dtype, n, 0);
    }

    @Property(tries = 30)
    void addAndAddBiasAreExactSumsRoundedOnce(@ForAll("floatTypes") DType dtype, @ForAll @IntRange(min = 1, max = 20) int rows,
                                              @ForAll @IntRange(min = 1, max = 30) int cols) {
        checkAdds(Device.CPU, dtype, rows, cols);
    }

    @Property(tries = 30)
    void scaleColumnsIsTheF32ProductRoundedOnce(@ForAll("floatTypes") DType dtype,
                                                @ForAll @IntRange(min = 1, max = 20) int rows,
                                                @ForAll @IntRange(min = 1, max = 30) int cols) {
        checkScaleColumns(Device.CPU, dtype, rows, cols);
    }

    /**
     * y ⊙ c (c F32 per column) on {@code device}: each element the f32 product rounded once to y's dtype, so bit-exact
     * against the product computed here; an all-ones scale leaves y as it was.
     */
    static void checkScaleColumns(Device device, DType dtype, int rows, int cols) {
        int n = rows * cols;
        float[] c = RandomData.columnScale(cols + 7L, cols);
        float[] ones = new float[cols];
        Arrays.fill(ones, 1f);
        try (Tensor yh = Tensor.ofFloats(dtype, RandomData.floats(n, n), rows, cols);
             Tensor y = yh.copyTo(device);
             Tensor unscaled = yh.copyTo(device);
             Tensor scale = Tensor.ofFloats(DType.F32, c, cols).copyTo(device);
             Tensor one = Tensor.ofFloats(DType.F32, ones, cols).copyTo(device)) {
            Elementwise.scaleColumnsInPlace(ExecutionContext.defaultFor(y.device()), y, scale);
            Elementwise.scaleColumnsInPlace(ExecutionContext.defaultFor(unscaled.device()), unscaled, one);
            float[] before = yh.toFloatArray();
            float[] got = y.toFloatArray();
            float[] same = unscaled.toFloatArray();
            for (int i = 0; i < n; i++) {
                float exact = before[i] * c[i % cols]; // Java's float product: the f32 product, rounded once
                assertEquals(roundTo(dtype, exact), got[i], dtype + " y·c at " + i);
                assertEquals(Float.floatToIntBits(before[i]), Float.floatToIntBits(same[i]), dtype + " y·1 at " + i);
            }
        }
    }

    /** silu·up on {@code device} against the formula in double; {@code ulps} of slack for a GPU's expf. */
    static void check(Device device, DType dtype, int n, int ulps) {
        try (Tensor gh = Tensor.ofFloats(dtype, RandomData.moderate(n, n), n);
             Tensor uh = Tensor.ofFloats(dtype, RandomData.moderate(n + 1L, n), n);
             Tensor g = gh.copyTo(device);
             Tensor u = uh.copyTo(device);
             Tensor out = Elementwise.siluMul(ExecutionContext.defaultFor(g.device()), g, u)) {
            float[] gate = gh.toFloatArray();
            float[] up = uh.toFloatArray();
            float[] got = out.toFloatArray();
            for (int i = 0; i < n; i++) {
                double exact = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
                // One rounding to the dtype, plus f32 arithmetic's few ulps before it.
                double tol = Math.abs(exact) * (relativeUlp(dtype) + (4 + ulps) * 0x1p-23) + halfSmallestStep(dtype);
                assertEquals(exact, got[i], tol, dtype + " silu·up at " + i);
            }
        }
    }

    /** a + b and a + bias on {@code device}: the f32 sum rounded once, so bit-exact against DType's rounding. */
    static void checkAdds(Device device, DType dtype, int rows, int cols) {
        int n = rows * cols;
        try (Tensor ah = Tensor.ofFloats(dtype, RandomData.floats(n, n), rows, cols);
             Tensor bh = Tensor.ofFloats(dtype, RandomData.floats(n + 5L, n), rows, cols);
             Tensor biash = Tensor.ofFloats(dtype, RandomData.floats(cols, cols), cols);
             Tensor a = ah.copyTo(device);
             Tensor a2 = ah.copyTo(device);
             Tensor b = bh.copyTo(device);
             Tensor bias = biash.copyTo(device)) {
            Elementwise.addInPlace(ExecutionContext.defaultFor(a.device()), a, b);
            Elementwise.addBiasInPlace(ExecutionContext.defaultFor(a2.device()), a2, bias);
            float[] x = ah.toFloatArray();
            float[] y = bh.toFloatArray();
            float[] z = biash.toFloatArray();
            float[] sum = a.toFloatArray();
            float[] biased = a2.toFloatArray();
            for (int i = 0; i < n; i++) {
                assertEquals(roundTo(dtype, x[i] + y[i]), sum[i], dtype + " a + b at " + i);
                assertEquals(roundTo(dtype, x[i] + z[i % cols]), biased[i], dtype + " a + bias at " + i);
            }
        }
    }

    /** v rounded to the dtype (no tensor per element: closing a shared arena costs a JVM-wide handshake). */
    private static float roundTo(DType dtype, float v) {
        return switch (dtype) {
            case F16 -> DType.f16BitsToFloat(DType.floatToF16Bits(v));
            case BF16 -> DType.bf16BitsToFloat(DType.floatToBf16Bits(v));
            default -> v;
        };
    }

    /** Half the spacing of the dtype's subnormals: the absolute error of rounding a tiny value. */
    private static double halfSmallestStep(DType dtype) {
        return switch (dtype) {
            case F16 -> 0x1p-25;
            case BF16 -> 0x1p-134;
            default -> 0x1p-150;
        };
    }

    private static double relativeUlp(DType dtype) {
        return switch (dtype) {
            case BF16 -> 0x1p-8;
            case F16 -> 0x1p-11;
            default -> 0x1p-24;
        };
    }

    @Test
    void tensorsOfDifferentShapesAreRejected() {
        try (Tensor a = Tensor.ofFloats(DType.F32, RandomData.floats(1, 6), 2, 3);
             Tensor b = Tensor.ofFloats(DType.F32, RandomData.floats(2, 6), 3, 2)) {
            assertThrows(IllegalArgumentException.class, () -> Elementwise.addInPlace(ExecutionContext.defaultFor(a.device()), a, b));
            assertThrows(IllegalArgumentException.class, () -> Elementwise.siluMul(ExecutionContext.defaultFor(a.device()), a, b));
        }
    }

    @Test
    void aColumnScaleOfTheWrongShapeOrDtypeIsRefused() {
        try (Tensor y = Tensor.ofFloats(DType.BF16, RandomData.floats(1, 6), 2, 3);
             Tensor longer = Tensor.ofFloats(DType.F32, RandomData.floats(2, 4), 4);
             Tensor bf16 = Tensor.ofFloats(DType.BF16, RandomData.floats(3, 3), 3);
             Tensor vector = Tensor.ofFloats(DType.F32, RandomData.floats(4, 6), 6)) {
            for (Tensor wrong : new Tensor[] {longer, bf16}) {
                var e = assertThrows(IllegalArgumentException.class, () -> Elementwise.scaleColumnsInPlace(ExecutionContext.defaultFor(y.device()), y, wrong));
                assertTrue(e.getMessage().contains("F32 column scale [N]") && e.getMessage().contains(wrong.describe()),
                        e.getMessage());
            }
            assertThrows(IllegalArgumentException.class, () -> Elementwise.scaleColumnsInPlace(ExecutionContext.defaultFor(vector.device()), vector, vector));
        }
    }
}
