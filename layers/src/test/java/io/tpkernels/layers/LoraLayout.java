package io.tpkernels.layers;

import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Slabs;
import io.tpkernels.runtime.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A LoRA layer and the layout of its activations, for the properties that run every variant.
 * Column-parallel: {@code tokensSharded} is a sequence-parallel input (all-gathered over tokens first) and
 * {@code featuresSharded} leaves the output sharded ({@code gatherOutput = false}). Row-parallel:
 * {@code tokensSharded} reduce-scatters the output over tokens and {@code featuresSharded} hands the layer its
 * slice of the input ({@code inputIsParallel = true}).
 *
 * @param rowParallel     {@link LoraRowParallelLinear} rather than {@link LoraColumnParallelLinear}
 * @param tokensSharded   sequence parallel: the column layer's input, or the row layer's output, is token-sharded
 * @param featuresSharded the column layer's output, or the row layer's input, is its feature slice
 */
record LoraLayout(boolean rowParallel, boolean tokensSharded, boolean featuresSharded) {

    /** Column-parallel, replicated input, gathered output: the plainest layout. */
    static final LoraLayout COLUMN = new LoraLayout(false, false, false);
    /** Row-parallel, full input, all-reduced output. */
    static final LoraLayout ROW = new LoraLayout(true, false, false);

    /** All eight. */
    static List<LoraLayout> all() {
        return List.of(COLUMN, new LoraLayout(false, true, false), new LoraLayout(false, false, true),
                new LoraLayout(false, true, true), ROW, new LoraLayout(true, true, false),
                new LoraLayout(true, false, true), new LoraLayout(true, true, true));
    }

    /** The column layer's input, or the row layer's output, as {@link Tokens}. */
    Tokens tokens() {
        return tokensSharded ? Tokens.SHARDED : Tokens.REPLICATED;
    }

    /** The collectives one forward of the layer issues, in order (the base layer's; LoRA adds none). */
    List<String> collectives() {
        if (rowParallel) {
            return List.of(tokensSharded ? "reduceScatter SUM" : "allReduce SUM");
        }
        if (tokensSharded) {
            return featuresSharded ? List.of("allGather") : List.of("allGather", "allGather");
        }
        return featuresSharded ? List.of() : List.of("allGather");
    }

    @Override
    public String toString() {
        return (rowParallel ? "row-parallel" : "column-parallel") + (tokensSharded ? ", sequence parallel" : "")
                + (featuresSharded ? (rowParallel ? ", parallel input" : ", sharded output") : "");
    }

    /** A loaded layer of either kind: its forward and what closes it. */
    record Layer(UnaryOperator<Tensor> forward, AutoCloseable owner) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            owner.close();
        }
    }

    /**
     * The layer {@code w} ({@code [n, k]}, bias {@code biasName} or none) in this layout on {@code ctx}: with LoRA
     * from {@code lora}, or the plain base layer when {@code lora} is {@code null}.
     */
    Layer load(WeightSource weights, String biasName, int n, int k, RankContext ctx, LoraSource lora) {
        if (rowParallel) {
            RowParallelLinear l = lora == null
                    ? RowParallelLinear.load(weights, "w", biasName, n, k, ctx, featuresSharded, tokens())
                    : LoraRowParallelLinear.load(weights, "w", biasName, n, k, ctx, featuresSharded, tokens(), lora);
            return new Layer(l::forward, l);
        }
        ColumnParallelLinear l = lora == null
                ? ColumnParallelLinear.load(weights, "w", biasName, n, k, ctx, tokens(), !featuresSharded)
                : LoraColumnParallelLinear.load(weights, "w", biasName, n, k, ctx, tokens(), !featuresSharded, lora);
        return new Layer(l::forward, l);
    }

    /** The host tensor a rank is handed of the full input {@code x} ({@code [t, k]}): its tokens or its columns. */
    Tensor input(float[] x, int t, int k, DType dtype, int rank, int tp) {
        if (!rowParallel && tokensSharded) {
            int rows = t / tp;
            return Tensor.ofFloats(dtype, Arrays.copyOfRange(x, rank * rows * k, (rank + 1) * rows * k), rows, k);
        }
        if (!(rowParallel && featuresSharded)) {
            return Tensor.ofFloats(dtype, x, t, k);
        }
        try (Tensor full = Tensor.ofFloats(dtype, x, t, k)) {
            return Slabs.narrow(ExecutionContext.defaultFor(full.device()), full, 1, (long) rank * (k / tp), k / tp);
        }
    }

    /** The part of the full reference ({@code {exact, scale}}, {@code [t][n]}) that rank {@code rank} returns. */
    double[][][] expected(double[][][] ref, int t, int n, int rank, int tp) {
        if (!rowParallel && featuresSharded) {
            return ParallelLinearPropertiesTest.columns(ref, rank * (n / tp), n / tp);
        }
        if (rowParallel && tokensSharded) {
            return ParallelLinearPropertiesTest.rows(ref, rank * (t / tp), t / tp);
        }
        return ref;
    }

    /** The row stride of a rank's output. */
    int outputColumns(int n, int tp) {
        return !rowParallel && featuresSharded ? n / tp : n;
    }
}
