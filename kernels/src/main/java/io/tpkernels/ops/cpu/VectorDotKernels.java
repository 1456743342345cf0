package io.tpkernels.ops.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link DotKernels} with the Vector API: 16 vector accumulators (4 rows of A × 4 rows of B) fed by 8 loads
 * per step, so each step does two FMAs per load and the accumulators stay in registers (24 of 32 on AVX-512).
 * Loaded reflectively, only when {@code jdk.incubator.vector} is in the boot layer.
 */
final class VectorDotKernels implements DotKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

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
        c[r0] += c00.reduceLanes(VectorOperators.ADD); c[r0 + 1] += c01.reduceLanes(VectorOperators.ADD);
        c[r0 + 2] += c02.reduceLanes(VectorOperators.ADD); c[r0 + 3] += c03.reduceLanes(VectorOperators.ADD);
        c[r1] += c10.reduceLanes(VectorOperators.ADD); c[r1 + 1] += c11.reduceLanes(VectorOperators.ADD);
        c[r1 + 2] += c12.reduceLanes(VectorOperators.ADD); c[r1 + 3] += c13.reduceLanes(VectorOperators.ADD);
        c[r2] += c20.reduceLanes(VectorOperators.ADD); c[r2 + 1] += c21.reduceLanes(VectorOperators.ADD);
        c[r2 + 2] += c22.reduceLanes(VectorOperators.ADD); c[r2 + 3] += c23.reduceLanes(VectorOperators.ADD);
        c[r3] += c30.reduceLanes(VectorOperators.ADD); c[r3 + 1] += c31.reduceLanes(VectorOperators.ADD);
        c[r3 + 2] += c32.reduceLanes(VectorOperators.ADD); c[r3 + 3] += c33.reduceLanes(VectorOperators.ADD);
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
