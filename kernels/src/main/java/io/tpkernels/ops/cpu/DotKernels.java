package io.tpkernels.ops.cpu;

import java.lang.foreign.MemorySegment;

/**
 * The inner loops of the CPU GEMM: blocks of dot products of rows of x with rows of w, both f32 with k contiguous,
 * each product summed in the {@link Lanes} order: {@code acc[base + l]} is lane {@code l}'s chain of fused
 * multiply-adds over {@code k ≡ l (mod 16)}, continued from the value it holds, so that a caller can feed k in
 * blocks (and several products into one sum) and add the lanes once at the end. Two implementations: the Vector
 * API one ({@code jdk.incubator.vector}, used when that module is in the boot layer) and a scalar one, so the
 * library works with or without {@code --add-modules jdk.incubator.vector}; both give the same bits.
 */
public interface DotKernels {

    /**
     * For {@code i < 4} (rows of x at stride {@code ldx}), {@code j < 4} (rows of w at stride {@code ldw}) and each
     * lane {@code l}: {@code acc[accOff + (4i + j)·16 + l]} continued over {@code x[xOff + i·ldx + k]·w[wOff + j·ldw + k]}
     * for {@code k ≡ l (mod 16)}, {@code k < kLen}, in order of k; {@code kLen} is a multiple of 16.
     */
    void dot4x4(float[] x, int xOff, int ldx, float[] w, int wOff, int ldw, int kLen, float[] acc, int accOff);

    /** {@link #dot4x4} for one row of x: {@code acc[accOff + j·16 + l]}, {@code j < 4}. */
    void dot1x4(float[] x, int xOff, float[] w, int wOff, int ldw, int kLen, float[] acc, int accOff);

    /**
     * {@link #dot1x4} with the 4 rows of w read where they are stored, BF16 ({@code bf16}) or F32, row {@code j}'s
     * element {@code k} at byte {@code wOff + j·ldw + k·size}: widened in registers, so that at decode W streams
     * from memory straight into the sums. {@code kLen} is a multiple of 16.
     */
    void dot1x4Stored(float[] x, int xOff, MemorySegment w, long wOff, long ldw, boolean bf16, int kLen, float[] acc,
                      int accOff);

    /**
     * {@code sums[sumsOff + q] = }{@link Lanes#sum}{@code (acc, accOff + 16·q)} for {@code q < 16}: the sums of a
     * {@link #dot4x4} block, the same bits as one at a time. The lanes are consumed: {@code acc[accOff...]} is left
     * undefined.
     */
    void sum16(float[] acc, int accOff, float[] sums, int sumsOff);

    /** {@code dst[off + q]} = BF16 element {@code q} of {@code src} from byte {@code byteOff}, {@code q < len}: exact. */
    void widenBf16(MemorySegment src, long byteOff, float[] dst, int off, int len);

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
            boolean loaded = VectorApiNotice.moduleLoaded();
            Throwable refused = null;
            if (loaded) {
                try {
                    return (DotKernels) Class.forName("io.tpkernels.ops.cpu.VectorDotKernels")
                            .getDeclaredConstructor().newInstance();
                } catch (ReflectiveOperationException | LinkageError e) { // also: vectors too narrow to use
                    refused = e;
                }
            }
            VectorApiNotice.JVM.tellScalar(loaded, refused);
            return new ScalarDotKernels();
        }
    }
}
