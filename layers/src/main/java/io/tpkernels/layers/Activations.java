package io.tpkernels.layers;

import io.tpkernels.runtime.Tensor;

/** The checks every layer makes on the activation it is handed, so a wrong input fails in words, not in a kernel. */
final class Activations {
    private Activations() {
    }

    /** {@code x} must be {@code [rows?, cols]} (rows any when negative) in the context's precision on its device. */
    static void require(String layer, Tensor x, long rows, long cols, RankContext ctx) {
        boolean ok = x.rank() == 2 && x.dim(1) == cols && (rows < 0 || x.dim(0) == rows)
                && x.dtype() == ctx.precision().dtype() && x.device().equals(ctx.device());
        if (!ok) {
            throw new IllegalArgumentException(layer + " on rank " + ctx.rank() + ": input must be ["
                    + (rows < 0 ? "T" : rows) + ", " + cols + "] " + ctx.precision().dtype() + " on " + ctx.device()
                    + ", got " + x.describe());
        }
    }

    /** The tokens of a replicated activation that rank {@code rank} of {@code tp} holds when they are sharded. */
    static long shardedTokens(String layer, long tokens, RankContext ctx) {
        if (tokens % ctx.size() != 0) {
            throw new IllegalArgumentException(layer + ": " + tokens + " tokens cannot be split evenly over tp "
                    + ctx.size() + " (sequence parallelism needs T divisible by tp)");
        }
        return tokens / ctx.size();
    }
}
