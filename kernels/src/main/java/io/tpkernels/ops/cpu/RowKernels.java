package io.tpkernels.ops.cpu;

/**
 * The inner loops of the CPU GEMM of the backward ({@link CpuGemmRows}): rows of b scaled by a coefficient and
 * accumulated into a row of f32 sums, one fused multiply-add per element and per row of b, rows in order:
 * <pre>
 *   acc[j] ← fma(c, b[j], acc[j])        for every j &lt; len
 * </pre>
 * Every element is its own chain, so the bits do not depend on the vector width nor on which other elements are
 * computed alongside. Two implementations, as for {@link DotKernels}: the Vector API one (when
 * {@code jdk.incubator.vector} is in the boot layer) and a scalar one; both give the same bits.
 */
interface RowKernels {

    /**
     * For {@code j < len}: {@code acc[accOff + j]} continued over the 4 rows of b at stride {@code ldb}, in order:
     * {@code fma(c[cOff + q], b[bOff + q·ldb + j], ·)} for {@code q = 0, 1, 2, 3}. {@code len} is a multiple of 16.
     */
    void axpy4(float[] c, int cOff, float[] b, int bOff, int ldb, float[] acc, int accOff, int len);

    /**
     * {@link #axpy4} for 4 rows of sums at stride {@code ldAcc}, row {@code i} with the coefficients at
     * {@code c[cOff + i·ldc...]}: every row of b is read once for the 4.
     */
    void axpy4x4(float[] c, int cOff, int ldc, float[] b, int bOff, int ldb, float[] acc, int accOff, int ldAcc,
                 int len);

    /** {@link #axpy4} for one row: {@code acc[accOff + j] = fma(c, b[bOff + j], acc[accOff + j])}, {@code j < len}. */
    void axpy1(float c, float[] b, int bOff, float[] acc, int accOff, int len);

    /** What runs: "Vector API, 16 floats" or "scalar". */
    String describe();

    /** The fastest implementation this JVM can run. */
    static RowKernels best() {
        return Holder.BEST;
    }

    /** Chosen once. */
    final class Holder {
        static final RowKernels BEST = choose();

        private Holder() {
        }

        private static RowKernels choose() {
            boolean loaded = VectorApiNotice.moduleLoaded();
            Throwable refused = null;
            if (loaded) {
                try {
                    return (RowKernels) Class.forName("io.tpkernels.ops.cpu.VectorRowKernels")
                            .getDeclaredConstructor().newInstance();
                } catch (ReflectiveOperationException | LinkageError e) { // also: vectors too narrow to use
                    refused = e;
                }
            }
            VectorApiNotice.JVM.tellScalar(loaded, refused);
            return new ScalarRowKernels();
        }
    }
}
