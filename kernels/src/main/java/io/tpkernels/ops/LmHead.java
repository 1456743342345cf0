package io.tpkernels.ops;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;

/**
 * The vocab-padded LM-head GEMM of the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#5-lm-head-the-vocab-padded-gemm">section 5</a>,
 * one entry point for both backends:
 * <pre>
 *   logits[t, j] = Σ_k X[t, k] · W_r[j, k]     for j &lt; valid        (f32 accumulation)
 *   logits[t, j] = −∞                          for valid ≤ j &lt; S
 * </pre>
 * {@code W_r} holds only the shard's {@code valid} rows: padding rows are virtual, never allocated nor read.
 * Logits are F32 by default, BF16 on request. The LM head is never quantized: its inputs are F32, F16 or
 * BF16 and nothing else is accepted.
 */
public final class LmHead {
    private LmHead() {
    }

    /**
     * F32 logits {@code [T, S]}, allocated on {@code ctx} and queued there.
     *
     * @param ctx the context the logits are allocated on and the GEMM queued on; the tensors live on its device
     * @param x the hidden states, {@code [T, H]} F32, F16 or BF16
     * @param weightShard the shard's real rows, {@code [valid, H]} of x's dtype (no padding rows)
     * @param shardSize {@code S}, the shard's padded size, at least {@code valid}
     * @return the rank's logits, F32 {@code [T, S]} with {@code −∞} in the padding columns, owned by the caller
     * @throws IllegalArgumentException when a shape, dtype or device does not fit, or {@code S < valid}
     */
    public static Tensor logits(ExecutionContext ctx, Tensor x, Tensor weightShard, long shardSize) {
        return logits(ctx, x, weightShard, shardSize, DType.F32);
    }

    /**
     * Logits {@code [T, S]} of {@code outDtype} (F32 or BF16), allocated on {@code ctx} and queued there.
     *
     * @param ctx the context the logits are allocated on and the GEMM queued on; the tensors live on its device
     * @param x the hidden states, {@code [T, H]} F32, F16 or BF16
     * @param weightShard the shard's real rows, {@code [valid, H]} of x's dtype (no padding rows)
     * @param shardSize {@code S}, the shard's padded size, at least {@code valid}
     * @param outDtype F32 or BF16 (F16 has no room for the padding's {@code −∞} bit pattern of BF16)
     * @return the rank's logits {@code [T, S]} with {@code −∞} in the padding columns, owned by the caller
     * @throws IllegalArgumentException when a shape, dtype or device does not fit, {@code S < valid}, or
     *     {@code outDtype} is neither F32 nor BF16
     */
    public static Tensor logits(ExecutionContext ctx, Tensor x, Tensor weightShard, long shardSize, DType outDtype) {
        check(ctx, x, weightShard, shardSize);
        if (outDtype != DType.F32 && outDtype != DType.BF16) {
            throw new IllegalArgumentException("LM head: logits are F32 or BF16, not " + outDtype);
        }
        Tensor out = Tensor.allocate(ctx, outDtype, x.dim(0), shardSize);
        try {
            run(ctx, x, weightShard, out);
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /**
     * Queues the logits into {@code out} ({@code [T, S]}, F32 or BF16) on {@code ctx}.
     *
     * @param ctx the context the GEMM is queued on; the tensors live on its device
     * @param x the hidden states, {@code [T, H]} F32, F16 or BF16
     * @param weightShard the shard's real rows, {@code [valid, H]} of x's dtype
     * @param out {@code [T, S]} F32 or BF16 with {@code S >= valid}, overwritten
     * @throws IllegalArgumentException when a shape, dtype or device does not fit
     */
    public static void logits(ExecutionContext ctx, Tensor x, Tensor weightShard, Tensor out) {
        checkOut(ctx, x, weightShard, out);
        run(ctx, x, weightShard, out);
    }

    private static void run(ExecutionContext ctx, Tensor x, Tensor weightShard, Tensor out) {
        if (ctx.isCuda()) {
            LmHeadCuda.run(x, weightShard, out, ctx);
            ctx.wrote(out);
        } else {
            LmHeadCpu.run(x, weightShard, out);
        }
    }

    private static void checkOut(ExecutionContext ctx, Tensor x, Tensor w, Tensor out) {
        check(ctx, x, w, out.rank() == 2 ? out.dim(1) : -1);
        if ((out.dtype() != DType.F32 && out.dtype() != DType.BF16) || out.rank() != 2 || out.dim(0) != x.dim(0)
                || !out.device().equals(w.device())) {
            throw new IllegalArgumentException("LM head: logits must be [" + x.dim(0) + ", S] F32 or BF16 on "
                    + w.device() + ", got " + out.describe());
        }
    }

    static void check(ExecutionContext ctx, Tensor x, Tensor w, long shardSize) {
        if (!x.dtype().isFloatingPoint() || x.rank() != 2) {
            throw new IllegalArgumentException("LM head: X must be F32, F16 or BF16 of shape [T, H], got " + x.describe());
        }
        if (w.dtype() != x.dtype() || w.rank() != 2 || w.dim(1) != x.dim(1)) {
            throw new IllegalArgumentException("LM head: W must be [valid, " + x.dim(1) + "] " + x.dtype()
                    + " like X " + x.describe() + ", got " + w.describe());
        }
        if (!x.device().equals(w.device())) {
            throw new IllegalArgumentException("LM head: X " + x.describe() + " and W " + w.describe()
                    + " are on different devices");
        }
        if (shardSize < w.dim(0)) {
            throw new IllegalArgumentException("LM head: shard size " + shardSize + " is smaller than the "
                    + w.dim(0) + " valid rows of W");
        }
        ctx.requireOn("LM head", w);
    }
}
