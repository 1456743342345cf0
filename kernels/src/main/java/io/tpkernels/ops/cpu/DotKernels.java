package io.tpkernels.ops.cpu;

/**
 * The inner loop of the CPU GEMM: a block of 4 rows by {@link #panelWidth()} columns of C, accumulated as outer
 * products over k, from 4 packed rows of A (k contiguous) and a packed panel of B (k-major, {@code panelWidth}
 * columns per k). Every element's sum runs over k in order, one fused multiply-add per step, so its value does not
 * depend on where in a block it sits: a column-parallel shard computes its columns exactly as the unsharded GEMM
 * does. Two implementations: the Vector API one ({@code jdk.incubator.vector}, used when that module is in the boot
 * layer) and a scalar one, so the library works with or without {@code --add-modules jdk.incubator.vector}.
 */
public interface DotKernels {

    /**
     * {@code c[cOff + i·ldc + j] = Σ_{k < kLen} a[aOff + i·aStride + k] · b[bOff + k·panelWidth + j]} for
     * {@code i < 4}, {@code j < panelWidth()}, each sum from zero in the order of k.
     */
    void block(float[] a, int aOff, int aStride, float[] b, int bOff, int kLen, float[] c, int cOff, int ldc);

    /** The columns of a packed panel of B (a multiple of the vector width in floats). */
    int panelWidth();

    /** What runs: "Vector API, 16 floats" or "scalar". */
    String describe();

    /** The fastest implementation this JVM can run. */
    static DotKernels best() {
        return Holder.BEST;
    }

    /** Chosen once. */
    final class Holder {
        static final DotKernels BEST = choose();

        private Holder() {
        }

        private static DotKernels choose() {
            if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
                try {
                    return (DotKernels) Class.forName("io.tpkernels.ops.cpu.VectorDotKernels")
                            .getDeclaredConstructor().newInstance();
                } catch (ReflectiveOperationException | LinkageError e) {
                    return new ScalarDotKernels();
                }
            }
            return new ScalarDotKernels();
        }
    }
}
