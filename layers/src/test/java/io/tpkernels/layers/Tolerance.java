package io.tpkernels.layers;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.testing.GemmReference;

/**
 * How close a layer's output must be to the double reference, by the dtype it computes in: each element within
 * {@code relative(dtype) · Σ|terms|} of the exact value, where {@code Σ|terms|} is the reference's scale (the sum
 * of the products' and the bias's magnitudes, which bounds the rounding of every partial sum, of the output and
 * of an intermediate rounded to the dtype). NaN never passes.
 */
public final class Tolerance {
    private Tolerance() {
    }

    /** F32 about 1e-5, F16 (11-bit significand, rounded a few times) 2e-3, BF16 (8-bit) 1e-2. */
    public static double relative(DType dtype) {
        return switch (dtype) {
            case F32 -> 1e-5;
            case F16 -> 2e-3;
            case BF16 -> 1e-2;
            default -> throw new IllegalArgumentException("no tolerance for " + dtype);
        };
    }

    /**
     * Asserts that {@code actual} (row-major, row stride {@code ld}, columns {@code [0, n)}) matches
     * {@code reference} ({@code {exact, scale}}, each {@code [rows][n]}) within {@link #relative(DType)}.
     */
    public static void assertClose(double[][][] reference, float[] actual, int ld, DType dtype, String what) {
        GemmReference.assertWithin(reference, actual, ld, relative(dtype), 0, what + " (" + dtype + ")");
    }

    /** Asserts that {@code values} hold no NaN (before an exact comparison of two outputs, which NaN would pass). */
    public static void assertNoNaN(float[] values, String what) {
        for (int i = 0; i < values.length; i++) {
            assertTrue(!Float.isNaN(values[i]), what + ": NaN at " + i);
        }
    }
}
