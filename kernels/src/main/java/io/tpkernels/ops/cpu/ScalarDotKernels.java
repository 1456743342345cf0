package io.tpkernels.ops.cpu;

/** {@link DotKernels} in plain Java: the fallback without the Vector API, and the reference for it. */
final class ScalarDotKernels implements DotKernels {
    private static final int PANEL = 16;

    @Override
    public void block(float[] a, int aOff, int aStride, float[] b, int bOff, int kLen, float[] c, int cOff, int ldc) {
        for (int i = 0; i < 4; i++) {
            java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + PANEL, 0f);
        }
        for (int k = 0; k < kLen; k++) {
            int bk = bOff + k * PANEL;
            for (int i = 0; i < 4; i++) {
                float x = a[aOff + i * aStride + k];
                int ci = cOff + i * ldc;
                for (int j = 0; j < PANEL; j++) {
                    c[ci + j] = Math.fma(x, b[bk + j], c[ci + j]);
                }
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
