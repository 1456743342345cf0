package io.tpkernels.ops.cpu;

/** {@link RowKernels} in plain Java: the fallback without the Vector API, and the reference for it. */
final class ScalarRowKernels implements RowKernels {

    @Override
    public void axpy4(float[] c, int cOff, float[] b, int bOff, int ldb, float[] acc, int accOff, int len) {
        float c0 = c[cOff], c1 = c[cOff + 1], c2 = c[cOff + 2], c3 = c[cOff + 3];
        int b1 = bOff + ldb, b2 = bOff + 2 * ldb, b3 = bOff + 3 * ldb;
        for (int j = 0; j < len; j++) {
            float s = Math.fma(c0, b[bOff + j], acc[accOff + j]);
            s = Math.fma(c1, b[b1 + j], s);
            s = Math.fma(c2, b[b2 + j], s);
            acc[accOff + j] = Math.fma(c3, b[b3 + j], s);
        }
    }

    @Override
    public void axpy4x4(float[] c, int cOff, int ldc, float[] b, int bOff, int ldb, float[] acc, int accOff, int ldAcc,
                        int len) {
        for (int i = 0; i < 4; i++) {
            axpy4(c, cOff + i * ldc, b, bOff, ldb, acc, accOff + i * ldAcc, len);
        }
    }

    @Override
    public void axpy1(float c, float[] b, int bOff, float[] acc, int accOff, int len) {
        for (int j = 0; j < len; j++) {
            acc[accOff + j] = Math.fma(c, b[bOff + j], acc[accOff + j]);
        }
    }

    @Override
    public String describe() {
        return "scalar";
    }
}
