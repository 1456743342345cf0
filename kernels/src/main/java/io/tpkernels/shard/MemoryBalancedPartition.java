package io.tpkernels.shard;

import java.util.Arrays;

/**
 * The memory-balanced pipeline split of the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#11-pipeline-partition-and-the-parallel-plan">section 11</a>:
 * layers are weighed by their bytes, stage 0 also carries the embedding and the last stage the LM head (and final
 * norm). Among the splits whose largest stage is smallest, it picks the one whose stage sizes, sorted in decreasing
 * order, are lexicographically smallest: after the largest stage, the second largest is as small as it can be, then the
 * third, and so on. So it is never more lopsided than any other split, the even split by layer count included. Splits
 * with the same sorted sizes are told apart by their layer counts read from stage 0: the one with more layers on
 * earlier stages wins (as the default remainder rule puts the extra layers first).
 *
 * <p>Exact, by dynamic programming over contiguous splits: the best split of the first {@code j} layers over
 * {@code s} stages, compared by its sorted sizes and then its counts, extends to the best split of all layers,
 * because adding the same stage to two splits keeps their order. Stages larger than the smallest possible
 * largest stage (found first, by the classic min-max program) are never tried. At most {@code O(P²·L²)}, in
 * practice milliseconds for real models and well under a second for a thousand layers.
 */
public final class MemoryBalancedPartition {
    private MemoryBalancedPartition() {
    }

    /**
     * The memory-balanced split of {@code layerBytes} over {@code stages} stages.
     *
     * @param layerBytes      bytes of each layer, in order ({@code L} entries, none negative)
     * @param stages          {@code P}, at most {@code L}
     * @param firstStageExtra bytes only stage 0 holds (the embedding)
     * @param lastStageExtra  bytes only stage {@code P−1} holds (the LM head and final norm)
     * @return the split whose decreasingly sorted stage sizes are lexicographically smallest (so its largest stage
     *         is as small as possible); among equals, the one with the lexicographically largest layer counts
     * @throws IllegalArgumentException when {@code stages < 1} or there are fewer layers than stages, a size or extra
     *     is negative, or the total overflows 64 bits
     */
    public static PipelinePartition split(long[] layerBytes, int stages, long firstStageExtra, long lastStageExtra) {
        int n = layerBytes.length;
        if (stages < 1 || n < stages) {
            throw new IllegalArgumentException(Counts.of(n, "layer") + " cannot fill " + Counts.of(stages,
                    "pipeline stage"));
        }
        if (firstStageExtra < 0 || lastStageExtra < 0) {
            throw new IllegalArgumentException("stage extras must be >= 0, got " + firstStageExtra + " and "
                    + lastStageExtra);
        }
        long[] prefix = new long[n + 1];
        for (int i = 0; i < n; i++) {
            if (layerBytes[i] < 0) {
                throw new IllegalArgumentException("layer " + i + " has negative size " + layerBytes[i]);
            }
            prefix[i + 1] = add(prefix[i], layerBytes[i]);
        }
        add(add(prefix[n], firstStageExtra), lastStageExtra);
        long bound = smallestLargestStage(prefix, stages, firstStageExtra, lastStageExtra);
        // best[s][j]: the best split of layers [0, j) over stages 0..s-1.
        Split[][] best = new Split[stages + 1][n + 1];
        best[0][0] = new Split(new long[0], new int[0]);
        for (int s = 1; s <= stages; s++) {
            long extra = (s == 1 ? firstStageExtra : 0) + (s == stages ? lastStageExtra : 0);
            // stage s-1 holds layers [i, j); it must leave at least one layer for each later stage
            for (int j = s; j <= n - (stages - s); j++) {
                Split winner = null;
                long winnerSize = 0;
                int winnerLayers = 0;
                for (int i = s - 1; i < j; i++) {
                    Split before = best[s - 1][i];
                    long size = prefix[j] - prefix[i] + extra;
                    // No stage of a best split is larger than the smallest possible largest stage.
                    if (before == null || size > bound) {
                        continue;
                    }
                    if (winner == null || Split.compare(before, size, j - i, winner, winnerSize, winnerLayers) < 0) {
                        winner = before;
                        winnerSize = size;
                        winnerLayers = j - i;
                    }
                }
                if (winner != null) {
                    best[s][j] = winner.plus(winnerSize, winnerLayers);
                }
            }
        }
        return PipelinePartition.of(best[stages][n].counts);
    }

    /** The smallest possible largest stage: the classic min-max dynamic program over contiguous splits. */
    private static long smallestLargestStage(long[] prefix, int stages, long firstStageExtra, long lastStageExtra) {
        int n = prefix.length - 1;
        long[] before = new long[n + 1];
        Arrays.fill(before, Long.MAX_VALUE);
        before[0] = 0;
        for (int s = 1; s <= stages; s++) {
            long extra = (s == 1 ? firstStageExtra : 0) + (s == stages ? lastStageExtra : 0);
            long[] now = new long[n + 1];
            Arrays.fill(now, Long.MAX_VALUE);
            for (int j = s; j <= n - (stages - s); j++) {
                for (int i = s - 1; i < j; i++) {
                    if (before[i] != Long.MAX_VALUE) {
                        now[j] = Math.min(now[j], Math.max(before[i], prefix[j] - prefix[i] + extra));
                    }
                }
            }
            before = now;
        }
        return before[n];
    }

    /**
     * Orders stage-size vectors by how lopsided they are: sorted in decreasing order and compared
     * lexicographically (the larger largest stage is worse; on a tie, the larger second largest; and so on).
     *
     * @param a one split's stage sizes
     * @param b another's, of as many stages
     * @return negative, zero or positive as {@code a} is less, as or more lopsided than {@code b}
     * @throws IllegalArgumentException when the vectors have different lengths
     */
    public static int compareLopsidedness(long[] a, long[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("cannot compare " + a.length + " stages with " + b.length);
        }
        return Arrays.compare(descending(a), descending(b));
    }

    private static long[] descending(long[] values) {
        long[] out = values.clone();
        Arrays.sort(out);
        for (int i = 0, k = out.length - 1; i < k; i++, k--) {
            long t = out[i];
            out[i] = out[k];
            out[k] = t;
        }
        return out;
    }

    /**
     * The bytes of each stage of {@code partition} under the same weighing.
     *
     * @param partition the split
     * @param layerBytes bytes of each layer, one entry per layer of {@code partition}
     * @param firstStageExtra bytes only stage 0 holds (the embedding)
     * @param lastStageExtra bytes only the last stage holds (the LM head and final norm)
     * @return the bytes of each stage, in stage order
     * @throws IllegalArgumentException when {@code layerBytes} has not one entry per layer, or a sum overflows 64 bits
     */
    public static long[] stageBytes(PipelinePartition partition, long[] layerBytes, long firstStageExtra,
                                    long lastStageExtra) {
        if (partition.totalLayers() != layerBytes.length) {
            throw new IllegalArgumentException("partition of " + Counts.of(partition.totalLayers(), "layer") + " for "
                    + Counts.of(layerBytes.length, "layer size"));
        }
        long[] out = new long[partition.stages()];
        for (int s = 0; s < out.length; s++) {
            for (int l = partition.start(s); l < partition.end(s); l++) {
                out[s] = add(out[s], layerBytes[l]);
            }
        }
        out[0] = add(out[0], firstStageExtra);
        out[out.length - 1] = add(out[out.length - 1], lastStageExtra);
        return out;
    }

    private static long add(long a, long b) {
        try {
            return Math.addExact(a, b);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("the stage sizes overflow a 64-bit count");
        }
    }

    /** A split of a prefix of the layers: its stage sizes sorted in decreasing order, and its layer counts. */
    private record Split(long[] sortedDescending, int[] counts) {

        Split plus(long stageSize, int layers) {
            long[] sorted = new long[sortedDescending.length + 1];
            int at = 0;
            while (at < sortedDescending.length && sortedDescending[at] >= stageSize) {
                at++;
            }
            System.arraycopy(sortedDescending, 0, sorted, 0, at);
            sorted[at] = stageSize;
            System.arraycopy(sortedDescending, at, sorted, at + 1, sortedDescending.length - at);
            int[] more = Arrays.copyOf(counts, counts.length + 1);
            more[counts.length] = layers;
            return new Split(sorted, more);
        }

        /**
         * Compares {@code a} plus a stage of {@code aSize} bytes and {@code aLayers} layers with {@code b} plus its
         * stage, in the order of {@link #split} (negative: the first is better), without building either.
         */
        static int compare(Split a, long aSize, int aLayers, Split b, long bSize, int bLayers) {
            long[] x = a.sortedDescending;
            long[] y = b.sortedDescending;
            int xi = 0;
            int yi = 0;
            boolean xPlaced = false;
            boolean yPlaced = false;
            for (int k = 0; k <= x.length; k++) {
                long xv;
                if (!xPlaced && (xi == x.length || aSize >= x[xi])) {
                    xv = aSize;
                    xPlaced = true;
                } else {
                    xv = x[xi++];
                }
                long yv;
                if (!yPlaced && (yi == y.length || bSize >= y[yi])) {
                    yv = bSize;
                    yPlaced = true;
                } else {
                    yv = y[yi++];
                }
                if (xv != yv) {
                    return Long.compare(xv, yv); // the smaller stage at the first difference is better
                }
            }
            int c = Arrays.compare(a.counts, b.counts);
            if (c == 0) {
                c = Integer.compare(aLayers, bLayers);
            }
            return -c; // more layers on earlier stages is better
        }
    }
}
