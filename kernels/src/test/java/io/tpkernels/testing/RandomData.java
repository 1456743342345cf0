package io.tpkernels.testing;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import java.util.SplittableRandom;

/** Random test data: never zeros, with a spread of magnitudes and signs. */
public final class RandomData {
    private RandomData() {
    }

    /** {@code n} floats, normally distributed times a random power of two in [2^-8, 2^8], none zero. */
    public static float[] floats(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            float v;
            do {
                v = (float) (r.nextGaussian() * Math.scalb(1.0, r.nextInt(-8, 9)));
            } while (v == 0f);
            out[i] = v;
        }
        return out;
    }

    /** {@code n} column scales like DoRA's {@code m / ‖W + s·B·A‖_row}: in [0.5, 1.5), none of them 1. */
    public static float[] columnScale(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            do {
                out[i] = (float) (0.5 + r.nextDouble());
            } while (out[i] == 1f);
        }
        return out;
    }

    /**
     * {@code n} non-zero normal floats times a random power of two in [2^-3, 2^1]: products and sums of a few
     * thousand stay far inside F16's range, for GEMM tests whose intermediates are rounded to F16.
     */
    public static float[] moderate(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            float v;
            do {
                v = (float) (r.nextGaussian() * Math.scalb(1.0, r.nextInt(-3, 2)));
            } while (v == 0f);
            out[i] = v;
        }
        return out;
    }

    /** A tensor of {@link #moderate} values of {@code dtype} (rounded to it) on {@code device}. */
    public static Tensor moderateOn(Device device, DType dtype, long seed, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        try (Tensor host = Tensor.ofFloats(dtype, moderate(seed, Math.toIntExact(n)), shape)) {
            return host.copyTo(device);
        }
    }
}
