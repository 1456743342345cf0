package io.tpkernels.ops;

import static io.tpkernels.ops.VocabParallelCrossEntropy.IGNORE_INDEX;

import io.tpkernels.cuda.sources.KernelConstants;
import io.tpkernels.cuda.sources.KernelNames;
import io.tpkernels.runtime.CudaKernel;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.KernelArgs;
import io.tpkernels.runtime.Memory;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@link VocabParallelCrossEntropy} on a GPU: the kernels of cross_entropy.cu queued on the context's stream, the two
 * collectives on device memory between them. The forward waits on the host once, for its loss: one copy of the
 * per-token losses and targets, which the host checks (a bad target is found there, after the collectives, so every
 * rank fails alike) and averages in token order, as the CPU path does. The backward does not wait.
 */
final class VocabParallelCrossEntropyCuda {
    private static final int THREADS = KernelConstants.CROSS_ENTROPY_THREADS;
    private static final int ROW_BLOCKS_PER_SM = 16;

    private VocabParallelCrossEntropyCuda() {
    }

    /** {@code out[t] = max_{j < valid} z[t, j]} ({@code tpk_ce_row_max}), queued. */
    @SuppressWarnings("try")
    static void rowMax(ExecutionContext ctx, Tensor logits, long valid, Tensor out) {
        long t = logits.dim(0);
        if (t == 0) {
            return;
        }
        try (Memory.Access use = Tensor.acquireAll(logits, out)) {
            kernel(ctx, KernelNames.TPK_CE_ROW_MAX).launch(ctx, rowBlocks(ctx, t), THREADS, 0,
                    KernelArgs.begin().ptr(out.devicePointer()).ptr(logits.devicePointer()).i64(t).i64(logits.dim(1))
                            .i64(valid));
        }
        ctx.wrote(out);
    }

    /** {@code packed[t] = (ties, rest, target)} against {@code rowMax} ({@code tpk_ce_sum_target}), queued. */
    @SuppressWarnings("try")
    static void sumAndTarget(ExecutionContext ctx, Tensor logits, Tensor targets, VocabShard shard, Tensor rowMax,
                             Tensor packed) {
        sumAndTarget(ctx, logits, targets, shard.start(), shard.validRows(), rowMax, packed);
    }

    /** As above, for logits whose columns are global ids {@code start + j}, the first {@code valid} of them real. */
    @SuppressWarnings("try")
    static void sumAndTarget(ExecutionContext ctx, Tensor logits, Tensor targets, long start, long valid,
                             Tensor rowMax, Tensor packed) {
        long t = logits.dim(0);
        if (t == 0) {
            return;
        }
        int i64 = targets.dtype() == DType.I64 ? 1 : 0;
        try (Memory.Access use = Tensor.acquireAll(logits, targets, rowMax, packed)) {
            kernel(ctx, KernelNames.TPK_CE_SUM_TARGET).launch(ctx, rowBlocks(ctx, t), THREADS, 0,
                    KernelArgs.begin().ptr(packed.devicePointer()).ptr(logits.devicePointer())
                            .ptr(targets.devicePointer()).i32(i64).ptr(rowMax.devicePointer()).i64(t)
                            .i64(logits.dim(1)).i64(valid).i64(start));
        }
        ctx.wrote(packed);
    }

    /** One chunk's {@code (max, packed)} folded into the running {@code (runMax, runPacked)} ({@code tpk_ce_merge}). */
    @SuppressWarnings("try")
    static void merge(ExecutionContext ctx, Tensor runMax, Tensor runPacked, Tensor max, Tensor packed) {
        long t = runMax.dim(0);
        if (t == 0) {
            return;
        }
        try (Memory.Access use = Tensor.acquireAll(runMax, runPacked, max, packed)) {
            kernel(ctx, KernelNames.TPK_CE_MERGE).launch(ctx, elementBlocks(ctx, t), THREADS, 0,
                    KernelArgs.begin().ptr(runMax.devicePointer()).ptr(runPacked.devicePointer())
                            .ptr(max.devicePointer()).ptr(packed.devicePointer()).i64(t));
        }
        ctx.wrote(runMax);
        ctx.wrote(runPacked);
    }

    /** {@code packed}, taken against each row's {@code localMax}, rebased on the global {@code rowMax}, queued. */
    @SuppressWarnings("try")
    static void rebase(ExecutionContext ctx, Tensor localMax, Tensor rowMax, Tensor packed) {
        long t = rowMax.dim(0);
        if (t == 0) {
            return;
        }
        try (Memory.Access use = Tensor.acquireAll(localMax, rowMax, packed)) {
            kernel(ctx, KernelNames.TPK_CE_REBASE).launch(ctx, elementBlocks(ctx, t), THREADS, 0,
                    KernelArgs.begin().ptr(packed.devicePointer()).ptr(localMax.devicePointer())
                            .ptr(rowMax.devicePointer()).i64(t));
        }
        ctx.wrote(packed);
    }

    /**
     * After the two collectives: the per-token losses ({@code tpk_ce_finish}), one copy to the host and the one host
     * wait, the targets checked and the mean taken there. Takes {@code rowMax} into the returned record.
     */
    @SuppressWarnings("try")
    static VocabParallelCrossEntropy.Forward finish(ExecutionContext ctx, VocabShard shard, Tensor targets,
                                                    Tensor rowMax, Tensor packed) {
        long t = rowMax.dim(0);
        int i64 = targets.dtype() == DType.I64 ? 1 : 0;
        Tensor sumExp = Tensor.allocate(ctx, DType.F32, t, 2);
        if (t == 0) {
            return new VocabParallelCrossEntropy.Forward(Double.NaN, 0, shard, rowMax, sumExp);
        }
        // Per token, the loss (a double, in the first T slots) and the target: one buffer, so one copy to the host.
        try (Tensor rows = Tensor.allocate(ctx, DType.I64, 2, t);
             Tensor host = Tensor.allocate(Device.CPU, DType.I64, 2, t)) {
            try (Memory.Access use = Tensor.acquireAll(targets, rowMax, packed, sumExp, rows)) {
                kernel(ctx, KernelNames.TPK_CE_FINISH).launch(ctx, elementBlocks(ctx, t), THREADS, 0,
                        KernelArgs.begin().ptr(sumExp.devicePointer()).ptr(rows.devicePointer())
                                .ptr(rows.devicePointer() + 8 * t).ptr(packed.devicePointer())
                                .ptr(rowMax.devicePointer()).ptr(targets.devicePointer()).i32(i64).i64(t));
            }
            ctx.wrote(sumExp);
            ctx.wrote(rows);
            host.copyFromAsync(rows, ctx.stream());
            ctx.synchronize(); // the one host wait: the loss is a host value
            try (Memory.Access use = host.acquire()) {
                return mean(host.hostSegment(), t, shard, rowMax, sumExp);
            }
        } catch (RuntimeException e) {
            sumExp.close();
            throw e;
        }
    }

    /**
     * {@code (1/N) Σ loss_t} over the {@code N} non-ignored tokens, in token order, from the host copy of the losses
     * (doubles, {@code [0, T)}) and targets ({@code [T, 2T)}); throws at the first target outside {@code [0, V)} that
     * is not ignored.
     */
    private static VocabParallelCrossEntropy.Forward mean(MemorySegment host, long t, VocabShard shard, Tensor rowMax,
                                                          Tensor sumExp) {
        double total = 0;
        long count = 0;
        for (long i = 0; i < t; i++) {
            long id = host.getAtIndex(ValueLayout.JAVA_LONG, t + i);
            if (id == IGNORE_INDEX) {
                continue;
            }
            if (id < 0 || id >= shard.vocabSize()) {
                throw VocabParallelCrossEntropy.badTarget(i, id, shard.vocabSize());
            }
            total += host.getAtIndex(ValueLayout.JAVA_DOUBLE, i);
            count++;
        }
        return new VocabParallelCrossEntropy.Forward(count == 0 ? Double.NaN : total / count, count, shard, rowMax,
                sumExp);
    }

    @SuppressWarnings("try")
    static void gradient(ExecutionContext ctx, Tensor logits, Tensor targets, VocabParallelCrossEntropy.Forward saved,
                         double gradOutput, Tensor dz) {
        gradient(ctx, logits, targets, saved, gradOutput, dz, saved.shard().start(), saved.shard().validRows());
    }

    /** As above, for logits whose columns are global ids {@code start + j}, the first {@code valid} of them real. */
    @SuppressWarnings("try")
    static void gradient(ExecutionContext ctx, Tensor logits, Tensor targets, VocabParallelCrossEntropy.Forward saved,
                         double gradOutput, Tensor dz, long start, long valid) {
        long t = logits.dim(0);
        if (t == 0) {
            return;
        }
        double scale = saved.count() == 0 ? 0 : gradOutput / saved.count();
        try (Memory.Access use = Tensor.acquireAll(logits, targets, saved.rowMax(), saved.sumExp(), dz)) {
            kernel(ctx, KernelNames.TPK_CE_GRADIENT).launch(ctx, rowBlocks(ctx, t), THREADS, 0,
                    KernelArgs.begin().ptr(dz.devicePointer()).ptr(logits.devicePointer()).ptr(targets.devicePointer())
                            .i32(targets.dtype() == DType.I64 ? 1 : 0).ptr(saved.rowMax().devicePointer())
                            .ptr(saved.sumExp().devicePointer()).i64(t).i64(logits.dim(1)).i64(valid)
                            .i64(start).f64(scale).i32(saved.count() > 0 ? 1 : 0));
        }
        ctx.wrote(dz);
    }

    private static CudaKernel kernel(ExecutionContext ctx, String name) {
        return ctx.kernel(KernelNames.MODULE_CROSS_ENTROPY, name);
    }

    /** A thread per element, at most 8 blocks per SM: the elements beyond are taken in a grid-stride loop. */
    static int elementBlocks(ExecutionContext ctx, long elements) {
        return (int) Math.min((elements + THREADS - 1) / THREADS, ctx.cudaDevice().multiprocessors() * 8L);
    }

    /** A block per row, at most a few per SM: the rows beyond are taken in a grid-stride loop. */
    private static int rowBlocks(ExecutionContext ctx, long rows) {
        return (int) Math.min(rows, (long) ctx.cudaDevice().multiprocessors() * ROW_BLOCKS_PER_SM);
    }
}
