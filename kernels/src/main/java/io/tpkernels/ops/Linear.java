package io.tpkernels.ops;

import io.tpkernels.ops.cpu.CpuGemm;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import java.util.List;

/**
 * The plain linear map of the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#7-parallel-linear-layers">section 7</a>,
 * one entry point for both backends:
 * <pre>
 *   y[t, n] = Σ_k x[t, k]·W[n, k] (+ bias[n])        x [T, K], W [N, K], y [T, N]
 * </pre>
 * accumulated in f32 and rounded once to {@code y}'s dtype. It is the GEMM the LM head and the LoRA linear
 * share, without padding columns and without the LoRA term.
 */
public final class Linear {
    private Linear() {
    }

    /**
     * {@code y} in x's dtype, allocated on {@code ctx} and queued there; {@code bias} may be {@code null}.
     *
     * @param ctx the context the result is allocated on and the GEMM queued on; the tensors live on its device
     * @param x the input, {@code [T, K]} F32, F16 or BF16
     * @param w the weight, {@code [N, K]} of x's dtype
     * @param bias {@code [N]} of x's dtype, or {@code null}
     * @return {@code y}, {@code [T, N]} in x's dtype, owned by the caller
     * @throws IllegalArgumentException when a shape, dtype or device does not fit (the message names both shapes)
     */
    public static Tensor forward(ExecutionContext ctx, Tensor x, Tensor w, Tensor bias) {
        check(ctx, x, w, bias);
        Tensor y = Tensor.allocate(ctx, x.dtype(), x.dim(0), w.dim(0));
        try {
            run(ctx, x, w, bias, y);
            return y;
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
    }

    /**
     * Queues {@code y} into {@code out} ({@code [T, N]}, any float dtype, on {@code ctx}'s device).
     *
     * @param ctx the context the GEMM is queued on; the tensors live on its device
     * @param x the input, {@code [T, K]} F32, F16 or BF16
     * @param w the weight, {@code [N, K]} of x's dtype
     * @param bias {@code [N]} of x's dtype, or {@code null}
     * @param out {@code [T, N]} in any float dtype, overwritten with {@code y} rounded to its dtype
     * @throws IllegalArgumentException when a shape, dtype or device does not fit
     */
    public static void forward(ExecutionContext ctx, Tensor x, Tensor w, Tensor bias, Tensor out) {
        checkOut(ctx, x, w, bias, out);
        run(ctx, x, w, bias, out);
    }

    private static void checkOut(ExecutionContext ctx, Tensor x, Tensor w, Tensor bias, Tensor out) {
        check(ctx, x, w, bias);
        if (!out.dtype().isFloatingPoint() || out.rank() != 2 || out.dim(0) != x.dim(0) || out.dim(1) != w.dim(0)
                || !out.device().equals(x.device())) {
            throw new IllegalArgumentException("linear: y must be [" + x.dim(0) + ", " + w.dim(0) + "] on "
                    + x.device() + ", got " + out.describe());
        }
    }

    /**
     * {@code W} and {@code bias} (may be {@code null}) bound to {@code ctx}, with the GEMM each forward runs decided
     * now, once: on a GPU the kernel body and its kernel for decode-sized inputs ({@code T ≤ 16}) and for larger ones,
     * its module loaded here. On the CPU there is nothing to decide (the GEMM reads W as stored).
     *
     * @param ctx the context every forward of the plan runs on; {@code w} lives on its device
     * @param w the weight, {@code [N, K]} F32, F16 or BF16; it must stay open while the plan is used
     * @param bias {@code [N]} of W's dtype, or {@code null}; it must stay open while the plan is used
     * @return the plan, which owns nothing
     * @throws IllegalArgumentException when a shape, dtype or device does not fit
     */
    public static Plan plan(ExecutionContext ctx, Tensor w, Tensor bias) {
        if (!w.dtype().isFloatingPoint() || w.rank() != 2) {
            throw new IllegalArgumentException("linear: W must be F32, F16 or BF16 of shape [N, K], got "
                    + w.describe());
        }
        check(ctx, w, w, bias);
        return new Plan(ctx, w, bias);
    }

    /** A linear map with fixed W and bias on one context, its kernels chosen when built ({@link #plan}). */
    public static final class Plan {
        private final ExecutionContext ctx;
        private final Tensor w;
        private final Tensor bias;
        /** By side of the decode bound (see {@link GemmCuda#choose}), for outputs in W's dtype; null on the CPU. */
        private final GemmCuda.Choice[] choices;

        private Plan(ExecutionContext ctx, Tensor w, Tensor bias) {
            this.ctx = ctx;
            this.w = w;
            this.bias = bias;
            this.choices = ctx.isCuda() ? choices(ctx, w, bias) : null;
        }

        private static GemmCuda.Choice[] choices(ExecutionContext ctx, Tensor w, Tensor bias) {
            long n = w.dim(0);
            boolean aligned = GemmCuda.aligned(w.devicePointer());
            return new GemmCuda.Choice[] {
                    GemmCuda.choose(ctx, w.dtype(), w.dtype(), 1, w.dim(1), 0, bias != null, n, n, aligned),
                    GemmCuda.choose(ctx, w.dtype(), w.dtype(), GemmCuda.DECODE_MAX_T + 1, w.dim(1), 0, bias != null,
                            n, n, aligned)};
        }

        /**
         * {@code y = x·Wᵀ + bias} in x's dtype, allocated on the plan's context and queued there.
         *
         * @param x the input, {@code [T, K]} of W's dtype, on the plan's device
         * @return {@code y}, {@code [T, N]} in x's dtype, owned by the caller
         * @throws IllegalArgumentException when x's shape, dtype or device does not fit
         */
        public Tensor forward(Tensor x) {
            check(ctx, x, w, bias);
            Tensor y = Tensor.allocate(ctx, x.dtype(), x.dim(0), w.dim(0));
            try {
                run(ctx, choiceFor(x, y), x, w, bias, y);
                return y;
            } catch (RuntimeException e) {
                y.close();
                throw e;
            }
        }

        /**
         * Queues {@code y} into {@code out} ({@code [T, N]}, any float dtype, on the plan's device).
         *
         * @param x the input, {@code [T, K]} of W's dtype, on the plan's device
         * @param out {@code [T, N]} in any float dtype, overwritten
         * @throws IllegalArgumentException when a shape, dtype or device does not fit
         */
        public void forward(Tensor x, Tensor out) {
            checkOut(ctx, x, w, bias, out);
            run(ctx, choiceFor(x, out), x, w, bias, out);
        }

        /**
         * The kernel a forward of {@code t} tokens (into W's dtype, from aligned inputs) runs: its name, as the PTX
         * names it ({@code tpk_gemm_<body>_<in>_<out>}), {@code "cublasGemmEx"} where cuBLAS stands in for a body
         * that failed its self-check, or {@code "cpu"} on the CPU. For diagnostics and checks.
         *
         * @param t the number of tokens
         * @return the kernel's name
         */
        public String kernelFor(long t) {
            return choices == null ? "cpu" : choices[t <= GemmCuda.DECODE_MAX_T ? 0 : 1].kernelName();
        }

        private GemmCuda.Choice choiceFor(Tensor x, Tensor out) {
            if (choices == null || out.dtype() != w.dtype()) {
                return null;
            }
            return choices[x.dim(0) <= GemmCuda.DECODE_MAX_T ? 0 : 1];
        }
    }

    private static void run(ExecutionContext ctx, Tensor x, Tensor w, Tensor bias, Tensor out) {
        run(ctx, null, x, w, bias, out);
    }

    private static void run(ExecutionContext ctx, GemmCuda.Choice planned, Tensor x, Tensor w, Tensor bias,
                            Tensor out) {
        if (ctx.isCuda()) {
            GemmCuda.launch(planned, x, w, null, null, bias, null, w.dim(0), 1f, out, ctx);
            ctx.wrote(out);
        } else {
            CpuGemm.multiplyNT(List.of(new CpuGemm.Product(operand(x), operand(w))), 1f,
                    bias == null ? null : new CpuGemm.Bias(bias.hostSegment(), bias.dtype()),
                    out.hostSegment(), out.dtype(), out.dim(1));
        }
    }

    private static CpuGemm.Operand operand(Tensor t) {
        return new CpuGemm.Operand(t.hostSegment(), t.dtype(), t.dim(0), t.dim(1), t.dim(1));
    }

    private static void check(ExecutionContext ctx, Tensor x, Tensor w, Tensor bias) {
        if (!x.dtype().isFloatingPoint() || x.rank() != 2) {
            throw new IllegalArgumentException("linear: x must be F32, F16 or BF16 of shape [T, K], got "
                    + x.describe());
        }
        if (w.dtype() != x.dtype() || w.rank() != 2 || w.dim(1) != x.dim(1) || !w.device().equals(x.device())) {
            throw new IllegalArgumentException("linear: W must be [N, " + x.dim(1) + "] " + x.dtype() + " on "
                    + x.device() + " like x, got " + w.describe());
        }
        if (bias != null && (bias.dtype() != x.dtype() || bias.rank() != 1 || bias.dim(0) != w.dim(0)
                || !bias.device().equals(x.device()))) {
            throw new IllegalArgumentException("linear: bias must be [" + w.dim(0) + "] " + x.dtype() + " on "
                    + x.device() + ", got " + bias.describe());
        }
        ctx.requireOn("linear", x);
    }
}
