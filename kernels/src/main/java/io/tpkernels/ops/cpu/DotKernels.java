package io.tpkernels.ops.cpu;

/**
 * The inner loop of the CPU GEMMs: a 4×4 block of dot products over packed f32 rows. Two implementations:
 * the Vector API one ({@code jdk.incubator.vector}, used when that module is in the boot layer) and a
 * scalar one, so the library works with or without {@code --add-modules jdk.incubator.vector}.
 */
public interface DotKernels {

    /**
     * {@code c[cOff + i·ldc + j] += Σ_k a[aOff + i·stride + k] · b[bOff + j·stride + k]} for {@code i, j < 4},
     * {@code k < kLen}. {@code kLen} is a multiple of {@link #kMultiple()}; packed rows are zero-padded to it.
     */
    void block4x4(float[] a, int aOff, float[] b, int bOff, int stride, int kLen, float[] c, int cOff, int ldc);

    /** The multiple that packed row lengths are padded to (the vector width in floats). */
    int kMultiple();

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
