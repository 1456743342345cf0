package io.tpkernels.ops.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link RowKernels} with the Vector API: {@code L} elements of the row per vector, the coefficients broadcast once
 * per call; in {@link #axpy4} one load and one store of the sums per 4 fused multiply-adds, and in
 * {@link #axpy4x4} 4 loads of b per 16. A vector fused
 * multiply-add rounds each lane as {@link Math#fma} does, so the bits are the scalar kernels'. Loaded reflectively,
 * only when {@code jdk.incubator.vector} is in the boot layer; its class fails to initialise where vectors are
 * narrower than 4 floats, and the scalar kernels run.
 *
 * <p>The vector width is chosen as {@link VectorDotKernels}'s: the machine's preferred one, at most 512 bits, or
 * narrower when the system property {@code tpk.cpu.vectorBits} (128, 256 or 512) asks for it.
 */
final class VectorRowKernels implements RowKernels {
    private static final VectorSpecies<Float> S = species();
    private static final int L = S.length();

    private static VectorSpecies<Float> species() {
        int bits = Math.min(Math.min(FloatVector.SPECIES_PREFERRED.vectorBitSize(), 512),
                Integer.getInteger("tpk.cpu.vectorBits", 512));
        if (bits < 128) {
            throw new IllegalStateException("vectors of " + bits + " bits: the scalar kernels are as fast");
        }
        return VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
    }

    @Override
    public void axpy4(float[] c, int cOff, float[] b, int bOff, int ldb, float[] acc, int accOff, int len) {
        FloatVector c0 = FloatVector.broadcast(S, c[cOff]), c1 = FloatVector.broadcast(S, c[cOff + 1]);
        FloatVector c2 = FloatVector.broadcast(S, c[cOff + 2]), c3 = FloatVector.broadcast(S, c[cOff + 3]);
        int b1 = bOff + ldb, b2 = bOff + 2 * ldb, b3 = bOff + 3 * ldb;
        for (int j = 0; j < len; j += L) {
            FloatVector s = c0.fma(FloatVector.fromArray(S, b, bOff + j), FloatVector.fromArray(S, acc, accOff + j));
            s = c1.fma(FloatVector.fromArray(S, b, b1 + j), s);
            s = c2.fma(FloatVector.fromArray(S, b, b2 + j), s);
            c3.fma(FloatVector.fromArray(S, b, b3 + j), s).intoArray(acc, accOff + j);
        }
    }

    @Override
    public void axpy4x4(float[] c, int cOff, int ldc, float[] b, int bOff, int ldb, float[] acc, int accOff, int ldAcc,
                        int len) {
        int c1 = cOff + ldc, c2 = cOff + 2 * ldc, c3 = cOff + 3 * ldc;
        FloatVector k00 = FloatVector.broadcast(S, c[cOff]), k01 = FloatVector.broadcast(S, c[cOff + 1]);
        FloatVector k02 = FloatVector.broadcast(S, c[cOff + 2]), k03 = FloatVector.broadcast(S, c[cOff + 3]);
        FloatVector k10 = FloatVector.broadcast(S, c[c1]), k11 = FloatVector.broadcast(S, c[c1 + 1]);
        FloatVector k12 = FloatVector.broadcast(S, c[c1 + 2]), k13 = FloatVector.broadcast(S, c[c1 + 3]);
        FloatVector k20 = FloatVector.broadcast(S, c[c2]), k21 = FloatVector.broadcast(S, c[c2 + 1]);
        FloatVector k22 = FloatVector.broadcast(S, c[c2 + 2]), k23 = FloatVector.broadcast(S, c[c2 + 3]);
        FloatVector k30 = FloatVector.broadcast(S, c[c3]), k31 = FloatVector.broadcast(S, c[c3 + 1]);
        FloatVector k32 = FloatVector.broadcast(S, c[c3 + 2]), k33 = FloatVector.broadcast(S, c[c3 + 3]);
        int b1 = bOff + ldb, b2 = bOff + 2 * ldb, b3 = bOff + 3 * ldb;
        int a0 = accOff, a1 = accOff + ldAcc, a2 = accOff + 2 * ldAcc, a3 = accOff + 3 * ldAcc;
        for (int j = 0; j < len; j += L) {
            FloatVector y0 = FloatVector.fromArray(S, b, bOff + j);
            FloatVector y1 = FloatVector.fromArray(S, b, b1 + j);
            FloatVector y2 = FloatVector.fromArray(S, b, b2 + j);
            FloatVector y3 = FloatVector.fromArray(S, b, b3 + j);
            k03.fma(y3, k02.fma(y2, k01.fma(y1, k00.fma(y0, FloatVector.fromArray(S, acc, a0 + j)))))
                    .intoArray(acc, a0 + j);
            k13.fma(y3, k12.fma(y2, k11.fma(y1, k10.fma(y0, FloatVector.fromArray(S, acc, a1 + j)))))
                    .intoArray(acc, a1 + j);
            k23.fma(y3, k22.fma(y2, k21.fma(y1, k20.fma(y0, FloatVector.fromArray(S, acc, a2 + j)))))
                    .intoArray(acc, a2 + j);
            k33.fma(y3, k32.fma(y2, k31.fma(y1, k30.fma(y0, FloatVector.fromArray(S, acc, a3 + j)))))
                    .intoArray(acc, a3 + j);
        }
    }

    @Override
    public void axpy1(float c, float[] b, int bOff, float[] acc, int accOff, int len) {
        FloatVector cv = FloatVector.broadcast(S, c);
        for (int j = 0; j < len; j += L) {
            cv.fma(FloatVector.fromArray(S, b, bOff + j), FloatVector.fromArray(S, acc, accOff + j))
                    .intoArray(acc, accOff + j);
        }
    }

    @Override
    public String describe() {
        return "Vector API, " + L + " floats";
    }
}
