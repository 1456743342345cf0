package io.tpkernels.ops.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link DotKernels} with the Vector API: 16 vector accumulators (4 rows of A × 4 vectors of a B panel) fed each
 * step by 4 vector loads of B and 4 broadcasts of A, so each step does 16 FMAs on 8 loads and the accumulators stay
 * in registers (24 of 32 on AVX-512). No lane is ever summed across: each accumulator lane is one element of C,
 * summed over k in order, so the result is the same in the JIT, the interpreter and every position.
 * Loaded reflectively, only when {@code jdk.incubator.vector} is in the boot layer.
 */
final class VectorDotKernels implements DotKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int PANEL = 4 * L;

    @Override
    public void block(float[] a, int aOff, int aStride, float[] b, int bOff, int kLen, float[] c, int cOff, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c02 = FloatVector.zero(S), c03 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S), c12 = FloatVector.zero(S), c13 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c22 = FloatVector.zero(S), c23 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S), c32 = FloatVector.zero(S), c33 = FloatVector.zero(S);
        int a0 = aOff, a1 = aOff + aStride, a2 = aOff + 2 * aStride, a3 = aOff + 3 * aStride;
        for (int k = 0; k < kLen; k++) {
            int bk = bOff + k * PANEL;
            FloatVector y0 = FloatVector.fromArray(S, b, bk);
            FloatVector y1 = FloatVector.fromArray(S, b, bk + L);
            FloatVector y2 = FloatVector.fromArray(S, b, bk + 2 * L);
            FloatVector y3 = FloatVector.fromArray(S, b, bk + 3 * L);
            FloatVector x0 = FloatVector.broadcast(S, a[a0 + k]);
            FloatVector x1 = FloatVector.broadcast(S, a[a1 + k]);
            FloatVector x2 = FloatVector.broadcast(S, a[a2 + k]);
            FloatVector x3 = FloatVector.broadcast(S, a[a3 + k]);
            c00 = x0.fma(y0, c00); c01 = x0.fma(y1, c01); c02 = x0.fma(y2, c02); c03 = x0.fma(y3, c03);
            c10 = x1.fma(y0, c10); c11 = x1.fma(y1, c11); c12 = x1.fma(y2, c12); c13 = x1.fma(y3, c13);
            c20 = x2.fma(y0, c20); c21 = x2.fma(y1, c21); c22 = x2.fma(y2, c22); c23 = x2.fma(y3, c23);
            c30 = x3.fma(y0, c30); c31 = x3.fma(y1, c31); c32 = x3.fma(y2, c32); c33 = x3.fma(y3, c33);
        }
        // Stores only: a load-add-store per vector here made the method too big for C2 to inline the Vector API's
        // calls, and the whole kernel ran boxed at a seventh of its speed.
        int r1 = cOff + ldc, r2 = cOff + 2 * ldc, r3 = cOff + 3 * ldc;
        c00.intoArray(c, cOff); c01.intoArray(c, cOff + L); c02.intoArray(c, cOff + 2 * L); c03.intoArray(c, cOff + 3 * L);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + L); c12.intoArray(c, r1 + 2 * L); c13.intoArray(c, r1 + 3 * L);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + L); c22.intoArray(c, r2 + 2 * L); c23.intoArray(c, r2 + 3 * L);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + L); c32.intoArray(c, r3 + 2 * L); c33.intoArray(c, r3 + 3 * L);
    }

    @Override
    public int panelWidth() {
        return PANEL;
    }

    @Override
    public String describe() {
        return "Vector API, " + L + " floats";
    }
}
