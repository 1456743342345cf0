package io.tpkernels.testing;

/**
 * The unsharded cross-entropy in double, for tests: {@code loss_t = log Σ_j exp(z_tj) − z_{t, y_t}} (log-sum-exp
 * shifted by the row maximum), {@code loss = mean over the targets that are not −100}, and its gradient
 * {@code (softmax − onehot) / N}. Logits are {@code [T, V]} row-major, without padding.
 */
public final class CrossEntropyReference {
    /** The ignored target. */
    public static final long IGNORE = -100;

    private CrossEntropyReference() {
    }

    /** The targets that are not ignored. */
    public static long count(long[] targets) {
        long n = 0;
        for (long y : targets) {
            n += y == IGNORE ? 0 : 1;
        }
        return n;
    }

    /** {@code log Σ_j exp(z_tj)} of row {@code t}. */
    public static double logSumExp(double[] z, int vocab, int t) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < vocab; j++) {
            max = Math.max(max, z[t * vocab + j]);
        }
        double sum = 0;
        for (int j = 0; j < vocab; j++) {
            sum += Math.exp(z[t * vocab + j] - max);
        }
        return max + Math.log(sum);
    }

    /** The mean loss over the non-ignored targets (NaN when there are none). */
    public static double loss(double[] z, long[] targets, int vocab) {
        double total = 0;
        for (int t = 0; t < targets.length; t++) {
            if (targets[t] != IGNORE) {
                total += logSumExp(z, vocab, t) - z[t * vocab + (int) targets[t]];
            }
        }
        return total / count(targets);
    }

    /**
     * {@code (softmax − onehot) / N} as {@code [T, V]}, zero rows for ignored targets; the target's
     * {@code softmax − 1} as {@code −Σ_{j ≠ y} exp(z_j − max) / Σ_j exp(z_j − max)}, without cancellation.
     */
    public static double[] gradient(double[] z, long[] targets, int vocab) {
        double[] dz = new double[z.length];
        long n = count(targets);
        for (int t = 0; t < targets.length; t++) {
            if (targets[t] == IGNORE) {
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < vocab; j++) {
                max = Math.max(max, z[t * vocab + j]);
            }
            double sum = 0;
            double others = 0;
            for (int j = 0; j < vocab; j++) {
                double e = Math.exp(z[t * vocab + j] - max);
                sum += e;
                others += j == targets[t] ? 0 : e;
            }
            for (int j = 0; j < vocab; j++) {
                double e = Math.exp(z[t * vocab + j] - max);
                dz[t * vocab + j] = (j == targets[t] ? -others : e) / sum / n;
            }
        }
        return dz;
    }

    /** The widening of {@code z} to double. */
    public static double[] widen(float[] z) {
        double[] out = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            out[i] = z[i];
        }
        return out;
    }
}
