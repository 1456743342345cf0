package io.tpkernels.testing;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;

/** The naive masked lookup, element by element through DType's accessors: the test oracle. */
public final class EmbeddingReference {
    private EmbeddingReference() {
    }

    /** {@code out[t][h]} as floats: the weight row of a contained id, else 0. */
    public static float[][] masked(long[] ids, float[][] weightRows, int h, long start, long valid) {
        float[][] out = new float[ids.length][];
        for (int t = 0; t < ids.length; t++) {
            long local = ids[t] - start;
            out[t] = local >= 0 && local < valid ? weightRows[(int) local].clone() : new float[h];
        }
        return out;
    }

    /** The rows of a host or device tensor {@code [R, H]} as floats. */
    public static float[][] rows(Tensor t) {
        float[] flat = t.toFloatArray();
        int r = (int) t.dim(0);
        int h = (int) t.dim(1);
        float[][] out = new float[r][h];
        for (int i = 0; i < r; i++) {
            System.arraycopy(flat, i * h, out[i], 0, h);
        }
        return out;
    }

    /** A host weight {@code [rows, h]} of random non-zero values in {@code dtype}. */
    public static Tensor randomWeight(DType dtype, long seed, int rows, int h) {
        return Tensor.ofFloats(dtype, RandomData.floats(seed, rows * h), rows, h);
    }
}
