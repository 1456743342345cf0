package io.tpkernels.layers;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.layers.weights.InMemoryWeights;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.RandomData;
import io.tpkernels.testing.RecordingGroup;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * One forward and backward of a linear layer, plain or LoRA, in a {@link LoraLayout} on {@code tp} CPU ranks in
 * F32, with what each rank returned: its {@code dx}, its LoRA gradients and the collectives of its backward alone.
 * The checkpoint ({@code w [n, k]}, {@code a [r, k]}, {@code b [n, r]}, {@code bias [n]}), the input {@code x
 * [t, k]} and the output's gradient {@code dy [t, n]} are random and never zero, fixed by the shapes and
 * {@code seed}, so that runs at different tp see the same problem.
 *
 * @param dx    each rank's {@code dx}
 * @param gradA each rank's {@code loraGradA()}, or {@code null} for a plain layer
 * @param gradB each rank's {@code loraGradB()}, or {@code null} for a plain layer
 * @param calls each rank's collectives during the backward
 */
record BackwardRun(List<float[]> dx, List<float[]> gradA, List<float[]> gradB, List<List<String>> calls) {
    static final float SCALE = 0.75f;

    /** The problem's shapes and seed. */
    record Problem(int n, int k, int r, int t, long seed) {
        InMemoryWeights weights() {
            return Harness.randomWeights(seed, DType.F32, Map.of("w", new long[] {n, k}, "a", new long[] {r, k},
                    "b", new long[] {n, r}, "bias", new long[] {n}));
        }

        float[] x() {
            return RandomData.moderate(seed * 3 + 1, t * k);
        }

        float[] dy() {
            return RandomData.moderate(seed * 3 + 2, t * n);
        }
    }

    /** Runs {@code p} in {@code layout}, with LoRA when {@code lora}, on {@code tp} CPU ranks. */
    static BackwardRun run(Problem p, LoraLayout layout, boolean lora, int tp) {
        return run(p, layout, lora, tp, Device.CPU);
    }

    /** Runs {@code p} in {@code layout}, with LoRA when {@code lora}, on {@code tp} ranks sharing {@code device}. */
    static BackwardRun run(Problem p, LoraLayout layout, boolean lora, int tp, Device device) {
        float[] x = p.x();
        float[] dy = p.dy();
        try (InMemoryWeights weights = p.weights()) {
            List<Rank> ranks = LocalGroup.run(tp, Duration.ofSeconds(60), g -> {
                RecordingGroup recording = new RecordingGroup(g);
                try (ExecutionContext exec = ExecutionContext.create(device)) {
                    RankContext ctx = new RankContext(recording, exec, Precision.F32);
                    return onRank(p, layout, lora, ctx, weights, x, dy, recording);
                }
            });
            return new BackwardRun(ranks.stream().map(Rank::dx).toList(),
                    lora ? ranks.stream().map(Rank::gradA).toList() : null,
                    lora ? ranks.stream().map(Rank::gradB).toList() : null,
                    ranks.stream().map(Rank::calls).toList());
        }
    }

    private record Rank(float[] dx, float[] gradA, float[] gradB, List<String> calls) {
    }

    private static Rank onRank(Problem p, LoraLayout layout, boolean lora, RankContext ctx,
                                    InMemoryWeights weights, float[] x, float[] dy, RecordingGroup recording)
            throws Exception {
        int tp = ctx.size();
        LoraSource source = lora ? new LoraSource.FromAdapter(weights, "a", "b", SCALE) : null;
        try (LoraLayout.Layer layer = layout.load(weights, "bias", p.n(), p.k(), ctx, source);
             Tensor xh = layout.input(x, p.t(), p.k(), DType.F32, ctx.rank(), tp);
             Tensor xr = xh.copyTo(ctx.device());
             Tensor dyh = outputGradient(layout, dy, p, ctx.rank(), tp);
             Tensor dyr = dyh.copyTo(ctx.device())) {
            Harness.drain(layer.forward().apply(xr));
            recording.calls.clear();
            float[] dx = Harness.drain(backward(layer.owner(), xr, dyr));
            List<String> calls = List.copyOf(recording.calls);
            return new Rank(dx, lora ? gradA(layer.owner()).toFloatArray() : null,
                    lora ? gradB(layer.owner()).toFloatArray() : null, calls);
        }
    }

    /** The layer's backward, whichever of the four it is. */
    static Tensor backward(Object layer, Tensor x, Tensor dy) {
        return layer instanceof ColumnParallelLinear c ? c.backward(x, dy) : ((RowParallelLinear) layer).backward(x, dy);
    }

    static Tensor gradA(Object layer) {
        return layer instanceof LoraColumnParallelLinear c ? c.loraGradA() : ((LoraRowParallelLinear) layer).loraGradA();
    }

    static Tensor gradB(Object layer) {
        return layer instanceof LoraColumnParallelLinear c ? c.loraGradB() : ((LoraRowParallelLinear) layer).loraGradB();
    }

    /** The gradient of the output as rank {@code rank} holds it: its columns, its tokens, or all of it. */
    static Tensor outputGradient(LoraLayout layout, float[] dy, Problem p, int rank, int tp) {
        int t = p.t();
        int n = p.n();
        if (!layout.rowParallel() && layout.featuresSharded()) {
            return Tensor.ofFloats(DType.F32, columns(dy, t, n, rank * (n / tp), n / tp), t, n / tp);
        }
        if (layout.rowParallel() && layout.tokensSharded()) {
            int rows = t / tp;
            return Tensor.ofFloats(DType.F32, Arrays.copyOfRange(dy, rank * rows * n, (rank + 1) * rows * n), rows, n);
        }
        return Tensor.ofFloats(DType.F32, dy, t, n);
    }

    /** The full {@code dx [t, k]}: the ranks' tokens or column blocks put together, else rank 0's. */
    float[] fullDx(LoraLayout layout, Problem p) {
        if (!layout.rowParallel() && layout.tokensSharded()) {
            return concat(dx);
        }
        if (layout.rowParallel() && layout.featuresSharded()) {
            return joinColumns(dx, p.t());
        }
        return dx.get(0);
    }

    /** The full {@code dA [r, k]}: replicated (rank 0's) column-parallel, column blocks row-parallel. */
    float[] fullGradA(LoraLayout layout, Problem p) {
        return layout.rowParallel() ? joinColumns(gradA, p.r()) : gradA.get(0);
    }

    /** The full {@code dB [n, r]}: row blocks column-parallel, replicated (rank 0's) row-parallel. */
    float[] fullGradB(LoraLayout layout) {
        return layout.rowParallel() ? gradB.get(0) : concat(gradB);
    }

    /** Whether the layout leaves every rank the whole {@code dx}. */
    static boolean replicatedDx(LoraLayout layout) {
        return layout.rowParallel() ? !layout.featuresSharded() : !layout.tokensSharded();
    }

    static float[] columns(float[] m, int rows, int cols, int from, int count) {
        float[] out = new float[rows * count];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(m, i * cols + from, out, i * count, count);
        }
        return out;
    }

    private static float[] joinColumns(List<float[]> blocks, int rows) {
        int each = blocks.get(0).length / rows;
        int cols = each * blocks.size();
        float[] out = new float[rows * cols];
        for (int b = 0; b < blocks.size(); b++) {
            for (int i = 0; i < rows; i++) {
                System.arraycopy(blocks.get(b), i * each, out, i * cols + b * each, each);
            }
        }
        return out;
    }

    private static float[] concat(List<float[]> parts) {
        float[] out = new float[parts.stream().mapToInt(a -> a.length).sum()];
        int at = 0;
        for (float[] a : parts) {
            System.arraycopy(a, 0, out, at, a.length);
            at += a.length;
        }
        return out;
    }
}
