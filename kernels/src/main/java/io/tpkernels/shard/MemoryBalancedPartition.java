package io.tpkernels.shard;

/**
 * The pipeline split that minimises the largest stage's bytes (SEMANTICS.md section 7's memory-balanced
 * split): layers are weighed by their bytes, and stage 0 also carries the embedding and the last stage the
 * LM head (and final norm). Exact, by dynamic programming over contiguous splits: {@code O(P·L²)}, trivial
 * for real models (L ≤ a few hundred).
 */
public final class MemoryBalancedPartition {
    private MemoryBalancedPartition() {
    }

    /**
     * @param layerBytes      bytes of each layer, in order ({@code L} entries)
     * @param stages          {@code P}, at most {@code L}
     * @param firstStageExtra bytes only stage 0 holds (the embedding)
     * @param lastStageExtra  bytes only stage {@code P−1} holds (the LM head and final norm)
     * @return a split whose largest stage is as small as possible; among those, the one that puts layers as
     *         early as possible
     */
    public static PipelinePartition split(long[] layerBytes, int stages, long firstStageExtra, long lastStageExtra) {
        int n = layerBytes.length;
        if (stages < 1 || n < stages) {
            throw new IllegalArgumentException(n + " layers cannot fill " + stages + " pipeline stages");
        }
        long[] prefix = new long[n + 1];
        for (int i = 0; i < n; i++) {
            if (layerBytes[i] < 0) {
                throw new IllegalArgumentException("layer " + i + " has negative size " + layerBytes[i]);
            }
            prefix[i + 1] = prefix[i] + layerBytes[i];
        }
        // best[s][j]: the smallest possible largest stage when stages 0..s-1 hold layers [0, j).
        long[][] best = new long[stages + 1][n + 1];
        int[][] cut = new int[stages + 1][n + 1];
        for (long[] row : best) {
            java.util.Arrays.fill(row, Long.MAX_VALUE);
        }
        best[0][0] = 0;
        for (int s = 1; s <= stages; s++) {
            long extra = (s == 1 ? firstStageExtra : 0) + (s == stages ? lastStageExtra : 0);
            // stage s-1 holds layers [i, j); it must leave at least one layer for each later stage
            for (int j = s; j <= n - (stages - s); j++) {
                for (int i = s - 1; i < j; i++) {
                    if (best[s - 1][i] == Long.MAX_VALUE) {
                        continue;
                    }
                    long cost = Math.max(best[s - 1][i], prefix[j] - prefix[i] + extra);
                    // Strictly smaller only: ties keep the larger i, i.e. more layers on earlier stages.
                    if (cost < best[s][j] || (cost == best[s][j] && i > cut[s][j])) {
                        best[s][j] = cost;
                        cut[s][j] = i;
                    }
                }
            }
        }
        int[] counts = new int[stages];
        for (int s = stages, j = n; s >= 1; s--) {
            int i = cut[s][j];
            counts[s - 1] = j - i;
            j = i;
        }
        return PipelinePartition.of(counts);
    }

    /** The bytes of each stage of {@code partition} under the same weighing. */
    public static long[] stageBytes(PipelinePartition partition, long[] layerBytes, long firstStageExtra,
                                    long lastStageExtra) {
        if (partition.totalLayers() != layerBytes.length) {
            throw new IllegalArgumentException("partition of " + partition.totalLayers() + " layers for "
                    + layerBytes.length + " layer sizes");
        }
        long[] out = new long[partition.stages()];
        for (int s = 0; s < out.length; s++) {
            for (int l = partition.start(s); l < partition.end(s); l++) {
                out[s] += layerBytes[l];
            }
        }
        out[0] += firstStageExtra;
        out[out.length - 1] += lastStageExtra;
        return out;
    }
}
