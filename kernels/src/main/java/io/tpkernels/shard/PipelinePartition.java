package io.tpkernels.shard;

import java.util.Arrays;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A split of {@code L} decoder layers over {@code P} pipeline stages into contiguous ranges, each of at least one layer
 * (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#11-pipeline-partition-and-the-parallel-plan">section 11</a>).
 * Stage {@code i} owns layers {@code [start(i), end(i))}; the embedding lives on stage 0 only, the LM head on stage
 * {@code P−1} only. Immutable; equal splits are equal.
 */
public final class PipelinePartition {

    /** Which stages take the {@code L % P} extra layers of a balanced split. */
    public enum Remainder {
        /** The first {@code L % P} stages get one more layer (the default). */
        FIRST,
        /** The last {@code L % P} stages get one more layer. */
        LAST
    }

    private final int[] layers;
    private final int[] starts;

    private PipelinePartition(int[] layers) {
        this.layers = layers;
        this.starts = new int[layers.length + 1];
        for (int i = 0; i < layers.length; i++) {
            starts[i + 1] = starts[i] + layers[i];
        }
    }

    /**
     * {@code b = L / P}, {@code x = L % P}: stage {@code i} gets {@code b+1} layers if {@code i < x} (FIRST) or
     * {@code i ≥ P − x} (LAST), else {@code b}. 61 layers on 8 stages: FIRST 8,8,8,8,8,7,7,7; LAST 7,7,7,8,8,8,8,8.
     *
     * @param layers {@code L}, the decoder layers
     * @param stages {@code P}, the pipeline stages
     * @param remainder which stages take the extra layers
     * @return the split
     * @throws IllegalArgumentException naming the values when {@code stages < 1} or {@code layers < stages}
     */
    public static PipelinePartition balanced(int layers, int stages, Remainder remainder) {
        checkCounts(layers, stages);
        int base = layers / stages;
        int extra = layers % stages;
        int[] counts = new int[stages];
        for (int i = 0; i < stages; i++) {
            boolean getsExtra = remainder == Remainder.FIRST ? i < extra : i >= stages - extra;
            counts[i] = base + (getsExtra ? 1 : 0);
        }
        return new PipelinePartition(counts);
    }

    /**
     * An explicit split {@code "a,b,…"}: {@code stages} entries, each at least 1, summing to {@code layers}.
     *
     * @param spec comma-separated layer counts, one per stage ({@code "8,8,7"}); blanks around entries are allowed
     * @param layers {@code L}, what the entries must sum to
     * @param stages {@code P}, how many entries there must be
     * @return the split
     * @throws IllegalArgumentException naming the spec and what is wrong with it
     */
    public static PipelinePartition parse(String spec, int layers, int stages) {
        checkCounts(layers, stages);
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("partition spec is empty; expected " + stages + " comma-separated layer counts");
        }
        String[] parts = spec.split(",", -1);
        if (parts.length != stages) {
            throw new IllegalArgumentException("partition \"" + spec + "\" has " + Counts.of(parts.length, "entry", "entries")
                    + " for " + Counts.of(stages, "stage"));
        }
        int[] counts = new int[stages];
        for (int i = 0; i < stages; i++) {
            String p = parts[i].strip();
            try {
                if (!p.matches("[0-9]{1,9}")) { // ASCII digits only: no sign, no other script's digits
                    throw new NumberFormatException(p);
                }
                counts[i] = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("partition \"" + spec + "\": entry " + i + " (\"" + p
                        + "\") is not a number");
            }
            if (counts[i] < 1) {
                throw new IllegalArgumentException("partition \"" + spec + "\": stage " + i + " has " + counts[i]
                        + " layers; every stage needs at least 1");
            }
        }
        long sum = Arrays.stream(counts).asLongStream().sum();
        if (sum != layers) {
            throw new IllegalArgumentException("partition \"" + spec + "\" sums to " + Counts.of(sum, "layer") + ", not " + layers);
        }
        return new PipelinePartition(counts);
    }

    /**
     * The split with these per-stage layer counts (each at least 1).
     *
     * @param layersPerStage the layer count of each stage, in stage order
     * @return the split
     * @throws IllegalArgumentException when there is no stage or a count is below 1
     */
    public static PipelinePartition of(int... layersPerStage) {
        if (layersPerStage.length == 0) {
            throw new IllegalArgumentException("a partition needs at least one stage");
        }
        return parse(IntStream.of(layersPerStage).mapToObj(Integer::toString).collect(Collectors.joining(",")),
                IntStream.of(layersPerStage).sum(), layersPerStage.length);
    }

    private static void checkCounts(int layers, int stages) {
        if (stages < 1) {
            throw new IllegalArgumentException("pipeline stages must be >= 1, got " + stages);
        }
        if (layers < stages) {
            throw new IllegalArgumentException(Counts.of(layers, "layer") + " cannot fill " + Counts.of(stages,
                    "pipeline stage") + ": every stage needs at least one layer");
        }
    }

    /**
     * {@code P}.
     *
     * @return the number of stages
     */
    public int stages() {
        return layers.length;
    }

    /**
     * {@code L}.
     *
     * @return the number of layers over all stages
     */
    public int totalLayers() {
        return starts[layers.length];
    }

    /**
     * Layers on {@code stage}.
     *
     * @param stage the stage, in {@code [0, P)}
     * @return its layer count, at least 1
     * @throws IllegalArgumentException when {@code stage} is out of range
     */
    public int layers(int stage) {
        return layers[checkStage(stage)];
    }

    /**
     * {@code Σ_{j<stage} layers(j)}: the stage's first layer.
     *
     * @param stage the stage, in {@code [0, P)}
     * @return the index of its first layer
     * @throws IllegalArgumentException when {@code stage} is out of range
     */
    public int start(int stage) {
        return starts[checkStage(stage)];
    }

    /**
     * One past the stage's last layer.
     *
     * @param stage the stage, in {@code [0, P)}
     * @return the index after its last layer
     * @throws IllegalArgumentException when {@code stage} is out of range
     */
    public int end(int stage) {
        return starts[checkStage(stage) + 1];
    }

    /**
     * The stage that owns {@code layer}.
     *
     * @param layer the layer's index, in {@code [0, L)}
     * @return the stage, in {@code [0, P)}
     * @throws IllegalArgumentException when {@code layer} is out of range
     */
    public int stageOf(int layer) {
        if (layer < 0 || layer >= totalLayers()) {
            throw new IllegalArgumentException("layer " + layer + " is outside [0, " + totalLayers() + ")");
        }
        int i = Arrays.binarySearch(starts, layer);
        // An exact hit is a stage's first layer; otherwise binarySearch gives the insertion point after it.
        return i >= 0 ? i : -i - 2;
    }

    /**
     * A copy of the per-stage layer counts.
     *
     * @return the layer counts, in stage order
     */
    public int[] layerCounts() {
        return layers.clone();
    }

    private int checkStage(int stage) {
        if (stage < 0 || stage >= layers.length) {
            throw new IllegalArgumentException("stage " + stage + " is outside [0, " + layers.length + ")");
        }
        return stage;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PipelinePartition p && Arrays.equals(layers, p.layers);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(layers);
    }

    /** The counts as {@link #parse} reads them: {@code "8,8,8,8,8,7,7,7"}. */
    @Override
    public String toString() {
        return IntStream.of(layers).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }
}
