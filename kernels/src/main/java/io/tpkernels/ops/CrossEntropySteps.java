package io.tpkernels.ops;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;

/**
 * The steps of the vocab-parallel cross-entropy between and after its collectives, on whichever backend the context
 * is ({@link VocabParallelCrossEntropyCpu} or {@link VocabParallelCrossEntropyCuda}): what the unfused form
 * ({@link VocabParallelCrossEntropy}) and the fused one ({@link LmHeadCrossEntropy}) are both made of.
 */
final class CrossEntropySteps {
    private CrossEntropySteps() {
    }

    /** {@code out[t] = max_{j < valid} z[t, j]}; {@code −∞} for a shard without valid columns. */
    static void rowMax(ExecutionContext ctx, Tensor logits, long valid, Tensor out) {
        if (ctx.isCuda()) {
            VocabParallelCrossEntropyCuda.rowMax(ctx, logits, valid, out);
        } else {
            VocabParallelCrossEntropyCpu.rowMax(logits, valid, out);
        }
    }

    /** {@code packed[t] = (ties, rest, target)} against {@code rowMax}. */
    static void sumAndTarget(ExecutionContext ctx, Tensor logits, Tensor targets, VocabShard shard, Tensor rowMax,
                             Tensor packed) {
        if (ctx.isCuda()) {
            VocabParallelCrossEntropyCuda.sumAndTarget(ctx, logits, targets, shard, rowMax, packed);
        } else {
            VocabParallelCrossEntropyCpu.sumAndTarget(logits, targets, shard, rowMax, packed);
        }
    }

    /** {@code packed[t] = (ties, rest, target)} against {@code rowMax} for columns that are ids {@code start + j}. */
    static void sumAndTarget(ExecutionContext ctx, Tensor logits, Tensor targets, long start, long valid,
                             Tensor rowMax, Tensor packed) {
        if (ctx.isCuda()) {
            VocabParallelCrossEntropyCuda.sumAndTarget(ctx, logits, targets, start, valid, rowMax, packed);
        } else {
            VocabParallelCrossEntropyCpu.sumAndTarget(logits, targets, start, valid, rowMax, packed);
        }
    }

    /** One chunk's {@code (max, packed)} folded into the running {@code (runMax, runPacked)}. */
    static void merge(ExecutionContext ctx, Tensor runMax, Tensor runPacked, Tensor max, Tensor packed) {
        if (ctx.isCuda()) {
            VocabParallelCrossEntropyCuda.merge(ctx, runMax, runPacked, max, packed);
        } else {
            VocabParallelCrossEntropyCpu.merge(runMax, runPacked, max, packed);
        }
    }

    /** {@code packed}, taken against each row's {@code localMax}, rebased on the global {@code rowMax}. */
    static void rebase(ExecutionContext ctx, Tensor localMax, Tensor rowMax, Tensor packed) {
        if (ctx.isCuda()) {
            VocabParallelCrossEntropyCuda.rebase(ctx, localMax, rowMax, packed);
        } else {
            VocabParallelCrossEntropyCpu.rebase(localMax, rowMax, packed);
        }
    }

    /** {@code dst ← src} (same shape, F32) in the context's order. */
    static void copy(ExecutionContext ctx, Tensor src, Tensor dst) {
        if (ctx.isCuda()) {
            dst.copyFromAsync(src, ctx.stream());
        } else {
            dst.copyFrom(src);
        }
    }

    /**
     * The loss from the reduced {@code rowMax} and {@code packed}; takes {@code rowMax} into the returned record.
     * {@code count} is {@code N} where the host already counted the targets (the CPU), or −1 (a GPU counts them here,
     * after its one host wait).
     */
    static VocabParallelCrossEntropy.Forward finish(ExecutionContext ctx, VocabShard shard, Tensor targets,
                                                    Tensor rowMax, Tensor packed, long count) {
        if (ctx.isCuda()) {
            return VocabParallelCrossEntropyCuda.finish(ctx, shard, targets, rowMax, packed);
        }
        Tensor sumExp = Tensor.allocate(ctx, DType.F32, rowMax.dim(0), 2);
        try {
            double loss = VocabParallelCrossEntropyCpu.meanLoss(targets, rowMax, packed, sumExp, count);
            return new VocabParallelCrossEntropy.Forward(loss, count, shard, rowMax, sumExp);
        } catch (RuntimeException e) {
            sumExp.close();
            throw e;
        }
    }

    /** {@code dz} of logits whose columns are ids {@code start + j}, the first {@code valid} of them real. */
    static void gradient(ExecutionContext ctx, Tensor logits, Tensor targets, VocabParallelCrossEntropy.Forward saved,
                         double gradOutput, Tensor dz, long start, long valid) {
        if (ctx.isCuda()) {
            VocabParallelCrossEntropyCuda.gradient(ctx, logits, targets, saved, gradOutput, dz, start, valid);
        } else {
            VocabParallelCrossEntropyCpu.gradient(logits, targets, saved, gradOutput, dz, start, valid);
        }
    }

    /** {@code dz = gradOutput·(softmax − onehot)/N} from the forward's {@code saved} statistics. */
    static void gradient(ExecutionContext ctx, Tensor logits, Tensor targets, VocabParallelCrossEntropy.Forward saved,
                         double gradOutput, Tensor dz) {
        if (ctx.isCuda()) {
            VocabParallelCrossEntropyCuda.gradient(ctx, logits, targets, saved, gradOutput, dz);
        } else {
            VocabParallelCrossEntropyCpu.gradient(logits, targets, saved, gradOutput, dz);
        }
    }
}
