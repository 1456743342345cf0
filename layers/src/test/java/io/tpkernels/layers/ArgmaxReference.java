package io.tpkernels.layers;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The greedy token as docs/contract.md section 5 defines it, by a plain scan that shares no code with the
 * vocab-parallel argmax: the largest value, ties to the smallest id; values compare with IEEE {@code >}, so
 * {@code +0} and {@code −0} tie. NaN is refused.
 */
public final class ArgmaxReference {
    private ArgmaxReference() {
    }

    /** The argmax of each row of {@code logits} ({@code [t, v]}, row-major). */
    public static long[] scan(float[] logits, int t, int v) {
        long[] out = new long[t];
        for (int i = 0; i < t; i++) {
            int best = 0;
            assertTrue(!Float.isNaN(logits[i * v]), "NaN logit at [" + i + ", 0]");
            for (int j = 1; j < v; j++) {
                assertTrue(!Float.isNaN(logits[i * v + j]), "NaN logit at [" + i + ", " + j + "]");
                if (logits[i * v + j] > logits[i * v + best]) {
                    best = j;
                }
            }
            out[i] = best;
        }
        return out;
    }

    /**
     * The argmax of the exact {@code row} where it is unambiguous: its largest value beats every other by more
     * than {@code margin} (what a computed row may be off by); otherwise −1, as no computed argmax can be held to it.
     */
    public static long ofExact(double[] row, double margin) {
        int best = 0;
        for (int j = 1; j < row.length; j++) {
            if (row[j] > row[best]) {
                best = j;
            }
        }
        for (int j = 0; j < row.length; j++) {
            if (j != best && row[best] - row[j] <= margin) {
                return -1;
            }
        }
        return best;
    }
}
