package io.tpkernels.ops;

import io.tpkernels.ops.BackwardGemmCuda.Matrix;
import io.tpkernels.ops.cpu.CpuGemm.Operand;
import io.tpkernels.ops.cpu.CpuGemmRows;
import io.tpkernels.ops.cpu.CpuGemmRows.Term;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import java.util.List;

/**
 * The backward of the vocab-padded LM head ({@link LmHead}) through its frozen weight shard: with {@code dz} the
 * gradient of this rank's padded logits {@code [T, S]},
 * <pre>
 *   dx_r[t, k] = Σ_{j &lt; valid} dz[t, j]·W_r[j, k]          [T, H], a partial sum over the ranks
 * </pre>
 * The padding columns {@code valid ≤ j < S} take no part: their rows of {@code W_r} do not exist, and the loss gives
 * them zero gradient anyway. A shard with no valid row contributes zeros. The caller sums the partials over the
 * tensor-parallel group (one all-reduce). F32 whatever the weight's dtype. On the CPU each element is one f32 chain
 * over {@code j} ascending, as {@link LinearBackward}; on a GPU the product is queued on the context's stream as
 * {@link LinearBackward}'s is, reading {@code dz}'s first {@code valid} columns in place (rows {@code S} apart).
 */
public final class LmHeadBackward {
    private static final String OP = "LM head backward";

    private LmHeadBackward() {
    }

    /**
     * {@code dx_r}, F32 {@code [T, H]}, allocated on {@code ctx}.
     *
     * @param ctx the context the result is allocated on and the product queued on; the tensors live on its device
     * @param dz the gradient of the rank's padded logits, F32 {@code [T, S]}
     * @param weightShard the frozen shard's real rows, {@code [valid, H]} F32, F16 or BF16, {@code valid <= S}
     * @return this rank's partial {@code dx_r}, F32 {@code [T, H]}, owned by the caller
     * @throws IllegalArgumentException when a shape, dtype or device does not fit
     */
    public static Tensor inputGradient(ExecutionContext ctx, Tensor dz, Tensor weightShard) {
        check(ctx, dz, weightShard);
        Tensor dx = Tensor.allocate(ctx, DType.F32, dz.dim(0), weightShard.dim(1));
        try {
            run(ctx, dz, weightShard, dx);
            return dx;
        } catch (RuntimeException e) {
            dx.close();
            throw e;
        }
    }

    /**
     * {@code dx += dz[:, :valid]·W_r} into F32 {@code [T, H]}: each element's sum continues from its value, so that
     * the products of chunks of the shard's rows add up to the whole one.
     *
     * @param ctx the context the product is queued on; the tensors live on its device
     * @param dz the gradient of a chunk of padded logits, F32 {@code [T, S]}; only its first {@code valid} columns are
     *     read
     * @param weightShard the rows the chunk's valid columns belong to, {@code [valid, H]} F32, F16 or BF16
     * @param dx F32 {@code [T, H]} on the same device, added to
     * @throws IllegalArgumentException when a shape, dtype or device does not fit
     */
    public static void addInputGradient(ExecutionContext ctx, Tensor dz, Tensor weightShard, Tensor dx) {
        check(ctx, dz, weightShard);
        BackwardChecks.requireF32(OP, "dx", dx, dz, dz.dim(0), weightShard.dim(1));
        run(ctx, dz, weightShard, dx, true);
    }

    /**
     * The gradient of a trainable head's weight shard, added into {@code dW}: {@code dW[j, k] += Σ_t dz[t, j]·x[t, k]}
     * for the valid rows {@code j < valid} ({@code dW} F32 {@code [valid, H]}); the padding columns take no part.
     * Each rank's rows are its own: no collective.
     *
     * @param ctx the context the product is queued on; the tensors live on its device
     * @param dz the gradient of the rank's padded logits, F32 {@code [T, S]} with {@code S >= valid}
     * @param x the head's input, {@code [T, H]} F32, F16 or BF16
     * @param dW F32 {@code [valid, H]} on the same device, added to
     * @throws IllegalArgumentException when a shape, dtype or device does not fit
     */
    public static void addWeightGradient(ExecutionContext ctx, Tensor dz, Tensor x, Tensor dW) {
        if (dz.dtype() != DType.F32 || dz.rank() != 2 || x.rank() != 2 || !x.dtype().isFloatingPoint()
                || x.dim(0) != dz.dim(0) || dz.dim(1) < dW.dim(0)) {
            throw new IllegalArgumentException(OP + ": dz must be F32 [T, S] and x [T, H] of a float dtype, got "
                    + dz.describe() + " and " + x.describe());
        }
        BackwardChecks.requireF32(OP, "dW", dW, dz, dW.dim(0), x.dim(1));
        ctx.requireOn(OP, dz);
        ctx.requireOn(OP, x);
        long valid = dW.dim(0);
        if (ctx.isCuda()) {
            BackwardGemmCuda.tn(ctx, new Matrix(dz, dz.dim(0), valid, dz.dim(1)), Matrix.of(x), 1f, true, dW);
            return;
        }
        Operand grad = new Operand(dz.hostSegment(), DType.F32, dz.dim(0), valid, dz.dim(1));
        CpuGemmRows.multiply(List.of(Term.tn(1f, grad, BackwardChecks.operand(x))), dW.hostSegment(), x.dim(1), true);
    }

    private static void run(ExecutionContext ctx, Tensor dz, Tensor w, Tensor dx) {
        run(ctx, dz, w, dx, false);
    }

    private static void run(ExecutionContext ctx, Tensor dz, Tensor w, Tensor dx, boolean accumulate) {
        long valid = w.dim(0);
        if (ctx.isCuda()) {
            BackwardGemmCuda.nn(ctx, new Matrix(dz, dz.dim(0), valid, dz.dim(1)), Matrix.of(w), 1f, accumulate, dx);
            return;
        }
        Operand grad = new Operand(dz.hostSegment(), DType.F32, dz.dim(0), valid, dz.dim(1));
        CpuGemmRows.multiply(List.of(Term.nn(1f, grad, BackwardChecks.operand(w))), dx.hostSegment(), dx.dim(1),
                accumulate);
    }

    private static void check(ExecutionContext ctx, Tensor dz, Tensor w) {
        if (!w.dtype().isFloatingPoint() || w.rank() != 2) {
            throw new IllegalArgumentException(OP + ": the weight shard must be F32, F16 or BF16 [valid, H], got "
                    + w.describe());
        }
        if (dz.dtype() != DType.F32 || dz.rank() != 2 || dz.dim(1) < w.dim(0) || !dz.device().equals(w.device())) {
            throw new IllegalArgumentException(OP + ": dz must be F32 [T, S] with S >= " + w.dim(0)
                    + " (the shard's valid rows) on " + w.device() + ", got " + dz.describe());
        }
        ctx.requireOn(OP, dz);
    }
}
