package io.tpkernels.ops.cpu;

/** {@link DotKernels} in plain Java: the fallback without the Vector API, and the reference for it. */
final class ScalarDotKernels implements DotKernels {

    @Override
    public void block4x4(float[] a, int aOff, float[] b, int bOff, int stride, int kLen, float[] c, int cOff, int ldc) {
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 4; j++) {
                int ai = aOff + i * stride;
                int bj = bOff + j * stride;
                float s0 = 0;
                float s1 = 0;
                float s2 = 0;
                float s3 = 0;
                for (int k = 0; k < kLen; k += 4) {
                    s0 = Math.fma(a[ai + k], b[bj + k], s0);
                    s1 = Math.fma(a[ai + k + 1], b[bj + k + 1], s1);
                    s2 = Math.fma(a[ai + k + 2], b[bj + k + 2], s2);
                    s3 = Math.fma(a[ai + k + 3], b[bj + k + 3], s3);
                }
                c[cOff + i * ldc + j] += (s0 + s1) + (s2 + s3);
            }
        }
    }

    @Override
    public int kMultiple() {
        return 4;
    }

    @Override
    public String describe() {
        return "scalar";
    }
}
