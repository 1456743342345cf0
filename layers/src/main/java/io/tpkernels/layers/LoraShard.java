package io.tpkernels.layers;

import io.tpkernels.layers.weights.ShardLoader.Split;
import io.tpkernels.layers.weights.ShardLoader;
import io.tpkernels.layers.weights.WeightException;
import io.tpkernels.ops.Cast;
import io.tpkernels.ops.LoraLinear;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.ShardRange;
import java.util.Arrays;

/**
 * One rank's part of a LoRA adapter (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#8-lora-under-tensor-parallelism">section 8</a>),
 * on its device in its precision: column-parallel layers hold {@code A} whole and {@code B}'s rows
 * {@code ShardRange(N)}; row-parallel layers hold {@code A}'s columns {@code ShardRange(K)} and {@code B} whole. A DoRA
 * adapter also holds its output scale {@code g = m/‖W + s·B·A‖_row} ({@link DoraScale}): for a column-parallel layer
 * this rank's rows of it, applied in the fused kernel's epilogue; for a row-parallel one all of it, applied after the
 * layer's collective.
 */
final class LoraShard implements AutoCloseable {
    /**
     * {@code A} and {@code B} as the kernels take them: on a GPU, for a rank whose rows are not a multiple of 16
     * bytes, zero-padded once here to the next rank that is ({@link LoraLinear#padRank}: the same product), with the
     * copies as loaded freed, so that the device holds one copy of the adapter and no forward stages it again.
     */
    private final Tensor a;
    private final Tensor b;
    private final float scale;
    /** The adapter's rank R: {@code A}'s rows before any padding. */
    private final int rank;
    /** DoRA's F32 output scale ({@code [N_r]} column-parallel, {@code [N]} row-parallel), or {@code null}. */
    private final Tensor doraScale;

    LoraShard(Tensor a, Tensor b, float scale, ExecutionContext exec) {
        this(a, b, scale, null, exec);
    }

    LoraShard(Tensor a, Tensor b, float scale, Tensor doraScale, ExecutionContext exec) {
        this.scale = scale;
        this.rank = Math.toIntExact(a.dim(0));
        this.doraScale = doraScale;
        boolean unaligned = LoraLinear.paddedRank(a.dim(0), a.dtype()) != a.dim(0);
        if (a.device().isCuda() && unaligned) {
            LoraLinear.Padded padded = LoraLinear.padRank(exec, a, b);
            exec.synchronize(); // the copies are read before the originals are freed
            a.close();
            b.close();
            this.a = padded.a();
            this.b = padded.b();
        } else {
            this.a = a;
            this.b = b;
        }
    }

    /** This rank's {@code A} ({@code [R', K]} with rows past R zero where it was padded). */
    Tensor a() {
        return a;
    }

    /** This rank's {@code B} ({@code [N, R']} with columns past R zero where it was padded). */
    Tensor b() {
        return b;
    }

    float scale() {
        return scale;
    }

    /** The adapter's rank R, whatever padding {@link #a()} and {@link #b()} carry past it. */
    int rank() {
        return rank;
    }

    /** DoRA's output scale, or {@code null} for plain LoRA. Not a copy: do not close. */
    Tensor doraScale() {
        return doraScale;
    }

    /**
     * The layer's product {@code g ⊙ (x·Wᵀ + s·(x·Aᵀ)·Bᵀ) (+ bias)} with this shard's adapter, its route decided
     * now; {@code g} is DoRA's scale when {@code scaled} (a column-parallel layer), else none.
     */
    LoraLinear.Plan plan(ExecutionContext exec, Tensor weight, Tensor bias, boolean scaled) {
        return LoraLinear.plan(exec, weight, a, b, scale, scaled ? doraScale : null, bias);
    }

    /**
     * The shard of a column-parallel layer whose rank holds output rows {@code outputs} of {@code [N, K]}, its part
     * of the base weight being {@code weight}.
     */
    static LoraShard forColumn(LoraSource source, ShardRange outputs, long k, Tensor weight, RankContext ctx) {
        return switch (source) {
            case LoraSource.Initialized init -> {
                Tensor a = Tensor.allocate(ctx.device(), ctx.precision().dtype(), init.rank(), k);
                try {
                    if (ctx.rank() == 0) {
                        fillFromSeed(a, init.seed(), ctx.exec());
                    }
                    ctx.tp().broadcast(ctx.exec(), a, 0); // replicated A: rank 0's draws everywhere
                    yield new LoraShard(a, zeros(ctx, outputs.length(), init.rank()), init.scale(), ctx.exec());
                } catch (RuntimeException e) {
                    a.close();
                    throw e;
                }
            }
            case LoraSource.FromAdapter ad -> {
                long r = rankOf(ad, k, k, ctx);
                Tensor a = ShardLoader.loadFullOrLocal(ad.weights(), ad.aName(), new long[] {r, k}, Split.REPLICATED,
                        0, r, ctx.size(), ctx.rank(), ctx.device(), ctx.precision().dtype());
                yield withB(a, ad, new long[] {outputs.size(), r}, Split.ROWS, outputs, weight, ctx);
            }
        };
    }

    /**
     * The shard of a row-parallel layer whose rank holds input columns {@code inputs} of {@code [N, K]}, its part of
     * the base weight being {@code weight}.
     */
    static LoraShard forRow(LoraSource source, ShardRange inputs, long n, Tensor weight, RankContext ctx) {
        return switch (source) {
            case LoraSource.Initialized init -> {
                // Sharded A: rank 0 draws all of it and each rank receives its columns.
                Tensor full = null;
                try {
                    if (ctx.rank() == 0) {
                        full = Tensor.allocate(ctx.device(), ctx.precision().dtype(), init.rank(), inputs.size());
                        fillFromSeed(full, init.seed(), ctx.exec());
                    }
                    Tensor a = ctx.tp().scatterFromRank(ctx.exec(), full, 0, 1);
                    yield new LoraShard(a, zeros(ctx, n, init.rank()), init.scale(), ctx.exec());
                } finally {
                    if (full != null) {
                        full.close();
                    }
                }
            }
            case LoraSource.FromAdapter ad -> {
                long r = rankOf(ad, inputs.size(), inputs.length(), ctx);
                Tensor a = ShardLoader.loadFullOrLocal(ad.weights(), ad.aName(), new long[] {r, inputs.size()},
                        Split.COLUMNS, inputs.start(), inputs.end(), ctx.size(), ctx.rank(), ctx.device(),
                        ctx.precision().dtype());
                yield withB(a, ad, new long[] {n, r}, Split.REPLICATED, null, weight, ctx);
            }
        };
    }

    /**
     * The adapter's rank R: A's first dimension, which must be the adapter's configured {@code r} when it has one.
     * {@code k} is A's full width, {@code localK} this rank's (the same for a replicated A).
     */
    private static long rankOf(LoraSource.FromAdapter ad, long k, long localK, RankContext ctx) {
        long[] shape = ad.weights().info(ad.aName()).shape();
        int expected = ad.expectedRank();
        boolean inRange = shape.length == 2 && shape[0] >= 1 && shape[0] <= LoraLinear.MAX_RANK;
        if (inRange && (expected == 0 || shape[0] == expected)) {
            return shape[0];
        }
        String r = expected == 0 ? "R" : Long.toString(expected);
        String rule = expected == 0 ? "R in [1, " + LoraLinear.MAX_RANK + "]" : "the adapter's r is " + expected;
        throw new WeightException(ad.weights().describe() + ": tensor " + ad.aName() + " has shape "
                + Arrays.toString(shape) + ", expected the full [" + r + ", " + k + "]"
                + (localK == k ? "" : " or rank " + ctx.rank() + "'s shard [" + r + ", " + localK + "]")
                + " (LoRA A, " + rule + ") on rank " + ctx.rank() + " of tp " + ctx.size());
    }

    /** B after A, then DoRA's scale if the adapter has one; {@code rows} is null for a row-parallel layer. */
    private static LoraShard withB(Tensor a, LoraSource.FromAdapter ad, long[] fullB, Split split, ShardRange rows,
                                   Tensor weight, RankContext ctx) {
        Tensor b = null;
        try {
            b = ShardLoader.loadFullOrLocal(ad.weights(), ad.bName(), fullB, split,
                    rows == null ? 0 : rows.start(), rows == null ? fullB[0] : rows.end(), ctx.size(), ctx.rank(),
                    ctx.device(), ctx.precision().dtype());
            if (!ad.isDora()) {
                return new LoraShard(a, b, ad.scale(), ctx.exec());
            }
            float[] m = magnitude(ad, fullB[0], rows, ctx);
            Tensor g = rows != null ? DoraScale.forColumn(weight, a, b, ad.scale(), m, ctx)
                    : DoraScale.forRow(weight, a, b, ad.scale(), m, ctx);
            return new LoraShard(a, b, ad.scale(), g, ctx.exec());
        } catch (RuntimeException e) {
            a.close();
            if (b != null) {
                b.close();
            }
            throw e;
        }
    }

    /** DoRA's {@code m}: this rank's rows {@code rows} of {@code [N]}, or all of it for {@code rows == null}. */
    private static float[] magnitude(LoraSource.FromAdapter ad, long n, ShardRange rows, RankContext ctx) {
        Split split = rows == null ? Split.REPLICATED : Split.ROWS;
        try (Tensor m = ShardLoader.loadFullOrLocal(ad.weights(), ad.magnitudeName(), new long[] {n}, split,
                rows == null ? 0 : rows.start(), rows == null ? n : rows.end(), ctx.size(), ctx.rank(),
                io.tpkernels.runtime.Device.CPU, io.tpkernels.runtime.DType.F32)) {
            return m.toFloatArray();
        }
    }

    private static void fillFromSeed(Tensor target, long seed, ExecutionContext exec) {
        try (Tensor drawn = LoraInit.kaimingUniform(seed, (int) target.dim(0), target.dim(1))) {
            if (!target.device().isCuda()) {
                Cast.into(exec, drawn, target);
                return;
            }
            try (Tensor moved = drawn.copyTo(target.device())) {
                Cast.into(exec, moved, target); // queued: `moved` is freed in the device's order by cuMemFree
            }
        }
    }

    private static Tensor zeros(RankContext ctx, long rows, long cols) {
        return Tensor.zeros(ctx.device(), ctx.precision().dtype(), rows, cols);
    }

    @Override
    public void close() {
        a.close();
        b.close();
        if (doraScale != null) {
            doraScale.close();
        }
    }
}
