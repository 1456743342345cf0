package io.tpkernels.testing;

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
}
