package io.tpkernels.ops.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link DotKernels} with the Vector API: 16 vector accumulators (4 rows of A × 4 rows of B) fed by 8 loads
 * per step, so each step does two FMAs per load and the accumulators stay in registers (24 of 32 on AVX-512).
 * Loaded reflectively, only when {@code jdk.incubator.vector} is in the boot layer.
 */
final class VectorDotKernels implements DotKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** The butterfly of {@link #sum}: step d pairs lane i with lane i ^ d, for d = L/2, L/4, ..., 1. */
    @SuppressWarnings("unchecked")
    private static final VectorShuffle<Float>[] BUTTERFLY = butterfly();

    private static VectorShuffle<Float>[] butterfly() {
        int steps = Integer.numberOfTrailingZeros(S.length());
        VectorShuffle<Float>[] out = new VectorShuffle[steps];
        for (int i = 0, d = S.length() / 2; d > 0; i++, d /= 2) {
            int distance = d;
            out[i] = VectorShuffle.fromOp(S, lane -> lane ^ distance);
        }
        return out;
    }

    /**
     * The sum of the lanes in one fixed order. {@code reduceLanes(ADD)} leaves the order unspecified, and it does
     * differ between the JIT's intrinsic and the interpreter's fallback: the same product came out 2 ulps apart
     * from one call to the next (a sharded LoRA layer that must equal the unsharded one bit for bit did not).
     * Lane-wise adds are exact IEEE operations in every mode, so a butterfly of them is reproducible.
     */
    private static float sum(FloatVector v) {
        for (VectorShuffle<Float> step : BUTTERFLY) {
            v = v.add(v.rearrange(step));
        }
        return v.lane(0);
    }

    @Override
    public void block4x4(float[] a, int aOff, float[] b, int bOff, int stride, int kLen, float[] c, int cOff, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c02 = FloatVector.zero(S), c03 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S), c12 = FloatVector.zero(S), c13 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c22 = FloatVector.zero(S), c23 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S), c32 = FloatVector.zero(S), c33 = FloatVector.zero(S);
        int a0 = aOff, a1 = aOff + stride, a2 = aOff + 2 * stride, a3 = aOff + 3 * stride;
        int b0 = bOff, b1 = bOff + stride, b2 = bOff + 2 * stride, b3 = bOff + 3 * stride;
        for (int k = 0; k < kLen; k += S.length()) {
            FloatVector x0 = FloatVector.fromArray(S, a, a0 + k);
            FloatVector x1 = FloatVector.fromArray(S, a, a1 + k);
            FloatVector x2 = FloatVector.fromArray(S, a, a2 + k);
            FloatVector x3 = FloatVector.fromArray(S, a, a3 + k);
            FloatVector y0 = FloatVector.fromArray(S, b, b0 + k);
            FloatVector y1 = FloatVector.fromArray(S, b, b1 + k);
            FloatVector y2 = FloatVector.fromArray(S, b, b2 + k);
            FloatVector y3 = FloatVector.fromArray(S, b, b3 + k);
            c00 = x0.fma(y0, c00); c01 = x0.fma(y1, c01); c02 = x0.fma(y2, c02); c03 = x0.fma(y3, c03);
            c10 = x1.fma(y0, c10); c11 = x1.fma(y1, c11); c12 = x1.fma(y2, c12); c13 = x1.fma(y3, c13);
            c20 = x2.fma(y0, c20); c21 = x2.fma(y1, c21); c22 = x2.fma(y2, c22); c23 = x2.fma(y3, c23);
            c30 = x3.fma(y0, c30); c31 = x3.fma(y1, c31); c32 = x3.fma(y2, c32); c33 = x3.fma(y3, c33);
        }
        int r0 = cOff, r1 = cOff + ldc, r2 = cOff + 2 * ldc, r3 = cOff + 3 * ldc;
        c[r0] += sum(c00); c[r0 + 1] += sum(c01);
        c[r0 + 2] += sum(c02); c[r0 + 3] += sum(c03);
        c[r1] += sum(c10); c[r1 + 1] += sum(c11);
        c[r1 + 2] += sum(c12); c[r1 + 3] += sum(c13);
        c[r2] += sum(c20); c[r2 + 1] += sum(c21);
        c[r2 + 2] += sum(c22); c[r2 + 3] += sum(c23);
        c[r3] += sum(c30); c[r3 + 1] += sum(c31);
        c[r3 + 2] += sum(c32); c[r3 + 3] += sum(c33);
    }

    @Override
    public int kMultiple() {
        return S.length();
    }

    @Override
    public String describe() {
        return "Vector API, " + S.length() + " floats";
    }
}
