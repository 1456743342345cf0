package io.tpkernels.ops.cpu;

/**
 * The order in which the CPU GEMM sums {@code Σ_k x[k]·w[k]}: {@value #COUNT} lanes, lane {@code l} a chain of
 * fused multiply-adds from +0 over {@code k ≡ l (mod 16)} in increasing {@code k}, then the lanes added as a
 * halving tree ({@link #sum}). Sixteen lanes whatever the machine's vectors, so the bits are the same with
 * 512-, 256- or 128-bit vectors and without the Vector API; lanes rather than one chain over k, so that a row of
 * W can be read in its stored layout, k contiguous, one vector at a time.
 *
 * <p>Padding both operands with zeros up to a multiple of 16 changes no bit: a lane that starts at +0 never
 * holds −0 (a sum rounded to nearest is −0 only when every addend is), and +0 plus {@code 0·0} is +0.
 */
final class Lanes {
    /** Lanes per sum. */
    static final int COUNT = 16;

    private Lanes() {
    }

    /** {@code k} rounded up to a whole number of lane groups. */
    static int padded(int k) {
        return (k + COUNT - 1) / COUNT * COUNT;
    }

    /** The 16 lanes at {@code acc[off...]} added as a halving tree: lane {@code l} with {@code l + 8}, then +4, +2, +1. */
    static float sum(float[] acc, int off) {
        float a0 = acc[off] + acc[off + 8];
        float a1 = acc[off + 1] + acc[off + 9];
        float a2 = acc[off + 2] + acc[off + 10];
        float a3 = acc[off + 3] + acc[off + 11];
        float a4 = acc[off + 4] + acc[off + 12];
        float a5 = acc[off + 5] + acc[off + 13];
        float a6 = acc[off + 6] + acc[off + 14];
        float a7 = acc[off + 7] + acc[off + 15];
        float b0 = a0 + a4;
        float b1 = a1 + a5;
        float b2 = a2 + a6;
        float b3 = a3 + a7;
        return (b0 + b2) + (b1 + b3);
    }
}
