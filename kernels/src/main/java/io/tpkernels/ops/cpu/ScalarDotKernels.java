package io.tpkernels.ops.cpu;

/** {@link DotKernels} in plain Java: the fallback without the Vector API, and the reference for it. */
final class ScalarDotKernels implements DotKernels {
    private static final int PANEL = 16;

    @Override
    public void block(float[] a, int aOff, int aStride, float[] b, int bOff, int kLen, float[] c, int cOff, int ldc) {
        float[] acc = new float[4 * PANEL];
        for (int k = 0; k < kLen; k++) {
            int bk = bOff + k * PANEL;
            for (int i = 0; i < 4; i++) {
                float x = a[aOff + i * aStride + k];
                for (int j = 0; j < PANEL; j++) {
                    acc[i * PANEL + j] = Math.fma(x, b[bk + j], acc[i * PANEL + j]);
                }
            }
        }
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < PANEL; j++) {
                c[cOff + i * ldc + j] = acc[i * PANEL + j];
            }
        }
    }

    @Override
    public int panelWidth() {
        return PANEL;
    }

    @Override
    public String describe() {
        return "scalar";
    }
}
