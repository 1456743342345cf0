package io.tpkernels.ops;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Slabs;
import io.tpkernels.runtime.Tensor;
import java.util.List;

/**
 * The fused LoRA-plus-base linear of the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#8-lora-under-tensor-parallelism">section 8</a>,
 * one entry point for both backends:
 * <pre>
 *   y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ (+ bias)        x [T, K], W [N, K], A [R, K], B [N, R], y [T, N]
 * </pre>
 * The intermediate {@code s·(x·Aᵀ)} ({@code [T, R]}) is rounded to the input dtype, as PEFT's matmul in that
 * dtype does, and folded into the same f32 accumulators as the base product: {@code y} is written once. It
 * serves the column-parallel form (A replicated, B and W sliced by rows) and the row-parallel partial sum
 * (A and W sliced by columns, B replicated; pass no bias and add it after the one collective). With
 * {@code B = 0} the result is the base product exactly.
 *
 * <p>DoRA ({@code use_dora}) multiplies each output column by {@code g[n] = m[n] / ‖W + s·B·A‖_row(n)}, an F32
 * vector computed once at load: the overloads with a {@code columnScale} compute
 * <pre>
 *   y[t, n] = columnScale[n] · (Σ_k x[t,k]·W[n,k] + Σ_r xa[t,r]·B[n,r]) + bias[n]
 * </pre>
 * in f32, the scale applied to the accumulated sum before the bias and the one rounding to {@code y}'s dtype, in
 * the same epilogue (no extra pass over {@code y}). A {@code null} column scale gives exactly the plain LoRA result.
 * Column-parallel layers pass their slice of the scale; row-parallel ones pass none here and apply it after the one
 * collective, before the bias ({@link Elementwise#scaleColumnsInPlace}).
 */
public final class LoraLinear {
    /** The largest LoRA rank accepted. */
    public static final int MAX_RANK = 256;

    private LoraLinear() {
    }

    /**
     * PEFT's scale: {@code alpha / R}, or {@code alpha / √R} for rsLoRA.
     *
     * @param alpha {@code lora_alpha}
     * @param rank {@code R}, at least 1
     * @param rsLora whether the adapter uses rsLoRA ({@code use_rslora})
     * @return {@code s}, computed in double and rounded to f32
     * @throws IllegalArgumentException when {@code rank < 1}
     */
    public static float scale(double alpha, int rank, boolean rsLora) {
        if (rank < 1) {
            throw new IllegalArgumentException("LoRA rank must be >= 1, got " + rank);
        }
        return (float) (rsLora ? alpha / Math.sqrt(rank) : alpha / rank);
    }

    /**
     * {@code y} in x's dtype, allocated on {@code ctx} and queued there; {@code bias} may be {@code null}.
     *
     * @param ctx the context the result is allocated on and the work queued on; the tensors live on its device
     * @param x the input, {@code [T, K]} F32, F16 or BF16
     * @param w the base weight, {@code [N, K]} of x's dtype
     * @param a LoRA's {@code A}, {@code [R, K]} of x's dtype, {@code 1 <= R <= 256}
     * @param b LoRA's {@code B}, {@code [N, R]} of x's dtype
     * @param scale {@code s}, as {@link #scale} computes it
     * @param bias {@code [N]} of x's dtype, or {@code null}
     * @return {@code y}, {@code [T, N]} in x's dtype, owned by the caller
     * @throws IllegalArgumentException when a shape, dtype or device does not fit, or {@code R} is outside
     *     {@code [1, 256]}
     */
    public static Tensor forward(ExecutionContext ctx, Tensor x, Tensor w, Tensor a, Tensor b, float scale,
                                 Tensor bias) {
        return forwardColumnScaled(ctx, x, w, a, b, scale, null, bias);
    }

    /**
     * {@code y = columnScale ⊙ (x·Wᵀ + s·(x·Aᵀ)·Bᵀ) + bias} in x's dtype, allocated on {@code ctx} and queued there
     * (DoRA's forward, see the class comment). Named apart from {@code forward} because
     * {@code forward(ctx, x, w, a, b, scale, bias, out)} already has this parameter list.
     *
     * @param columnScale F32 {@code [N]} on x's device, or {@code null} for the plain LoRA result
     * @param bias        {@code [N]} in x's dtype, or {@code null}
     * @param ctx the context the result is allocated on and the work queued on; the tensors live on its device
     * @param x the input, {@code [T, K]} F32, F16 or BF16
     * @param w the base weight, {@code [N, K]} of x's dtype
     * @param a LoRA's {@code A}, {@code [R, K]} of x's dtype, {@code 1 <= R <= 256}
     * @param b LoRA's {@code B}, {@code [N, R]} of x's dtype
     * @param scale {@code s}, as {@link #scale} computes it
     * @return {@code y}, {@code [T, N]} in x's dtype, owned by the caller
     * @throws IllegalArgumentException when a shape, dtype or device does not fit, or {@code R} is outside
     *     {@code [1, 256]}
     */
    public static Tensor forwardColumnScaled(ExecutionContext ctx, Tensor x, Tensor w, Tensor a, Tensor b, float scale,
                                             Tensor columnScale, Tensor bias) {
        check(ctx, x, w, a, b, columnScale, bias);
        Tensor y = Tensor.allocate(ctx, x.dtype(), x.dim(0), w.dim(0));
        try {
            run(ctx, x, w, a, b, scale, columnScale, bias, y);
            return y;
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
    }

    /**
     * Queues {@code y} into {@code out} ({@code [T, N]}, any float dtype) on {@code ctx}.
     *
     * @param ctx the context the work is queued on; the tensors live on its device
     * @param x the input, {@code [T, K]} F32, F16 or BF16
     * @param w the base weight, {@code [N, K]} of x's dtype
     * @param a LoRA's {@code A}, {@code [R, K]} of x's dtype, {@code 1 <= R <= 256}
     * @param b LoRA's {@code B}, {@code [N, R]} of x's dtype
     * @param scale {@code s}, as {@link #scale} computes it
     * @param bias {@code [N]} of x's dtype, or {@code null}
     * @param out {@code [T, N]} in any float dtype, overwritten with {@code y} rounded to its dtype
     * @throws IllegalArgumentException when a shape, dtype or device does not fit, or {@code R} is outside
     *     {@code [1, 256]}
     */
    public static void forward(ExecutionContext ctx, Tensor x, Tensor w, Tensor a, Tensor b, float scale, Tensor bias,
                               Tensor out) {
        forward(ctx, x, w, a, b, scale, null, bias, out);
    }

    /**
     * Queues {@code y = columnScale ⊙ (x·Wᵀ + s·(x·Aᵀ)·Bᵀ) + bias} into {@code out} ({@code [T, N]}, any float dtype)
     * on {@code ctx}.
     *
     * @param columnScale F32 {@code [N]} on x's device, or {@code null} for the plain LoRA result
     * @param bias        {@code [N]} in x's dtype, or {@code null}
     * @param ctx the context the work is queued on; the tensors live on its device
     * @param x the input, {@code [T, K]} F32, F16 or BF16
     * @param w the base weight, {@code [N, K]} of x's dtype
     * @param a LoRA's {@code A}, {@code [R, K]} of x's dtype, {@code 1 <= R <= 256}
     * @param b LoRA's {@code B}, {@code [N, R]} of x's dtype
     * @param scale {@code s}, as {@link #scale} computes it
     * @param out {@code [T, N]} in any float dtype, overwritten
     * @throws IllegalArgumentException when a shape, dtype or device does not fit, or {@code R} is outside
     *     {@code [1, 256]}
     */
    public static void forward(ExecutionContext ctx, Tensor x, Tensor w, Tensor a, Tensor b, float scale,
                               Tensor columnScale, Tensor bias, Tensor out) {
        checkOut(ctx, x, w, a, b, columnScale, bias, out);
        run(ctx, x, w, a, b, scale, columnScale, bias, out);
    }

    /**
     * {@code W}, {@code A}, {@code B}, the scale, the column scale and the bias (each of the last two may be
     * {@code null}) bound to {@code ctx}, with the way each forward runs decided now, once: on a GPU the route (one
     * decode launch, the shrink on chip, or shrink then fused GEMM) and its kernels, for decode-sized inputs
     * ({@code T ≤ 16}) and for larger ones, their modules loaded here. On the CPU there is nothing to decide.
     *
     * @param ctx the context every forward of the plan runs on; the tensors live on its device
     * @param w the base weight, {@code [N, K]} F32, F16 or BF16
     * @param a LoRA's {@code A}, {@code [R, K]} of W's dtype, {@code 1 <= R <= 256}
     * @param b LoRA's {@code B}, {@code [N, R]} of W's dtype
     * @param scale {@code s}, as {@link #scale} computes it
     * @param columnScale DoRA's F32 {@code [N]}, or {@code null}
     * @param bias {@code [N]} of W's dtype, or {@code null}
     * @return the plan; it owns none of the tensors, which must stay open while it is used
     * @throws IllegalArgumentException when a shape, dtype or device does not fit, or {@code R} is outside
     *     {@code [1, 256]}
     */
    public static Plan plan(ExecutionContext ctx, Tensor w, Tensor a, Tensor b, float scale, Tensor columnScale,
                            Tensor bias) {
        check(ctx, a, w, a, b, columnScale, bias); // A stands in for x: same dtype, device and K
        return new Plan(ctx, w, a, b, scale, columnScale, bias);
    }

    /** A LoRA linear with fixed operands on one context, its route chosen when built ({@link #plan}). */
    public static final class Plan {
        private final ExecutionContext ctx;
        private final Tensor w;
        private final Tensor a;
        private final Tensor b;
        private final float scale;
        private final Tensor columnScale;
        private final Tensor bias;
        /** By side of the decode bound, for outputs in W's dtype; null on the CPU. */
        private final LoraLinearCuda.Route[] routes;

        private Plan(ExecutionContext ctx, Tensor w, Tensor a, Tensor b, float scale, Tensor columnScale,
                     Tensor bias) {
            this.ctx = ctx;
            this.w = w;
            this.a = a;
            this.b = b;
            this.scale = scale;
            this.columnScale = columnScale;
            this.bias = bias;
            this.routes = ctx.isCuda()
                    ? LoraLinearCuda.plan(ctx, w, a, b, columnScale != null || bias != null, w.dtype()) : null;
        }

        /**
         * {@code y} in x's dtype, allocated on the plan's context and queued there.
         *
         * @param x the input, {@code [T, K]} of the plan's dtype, on its device
         * @return {@code y}, {@code [T, N]} in x's dtype, owned by the caller
         * @throws IllegalArgumentException when x's shape, dtype or device does not fit
         */
        public Tensor forward(Tensor x) {
            check(ctx, x, w, a, b, columnScale, bias);
            Tensor y = Tensor.allocate(ctx, x.dtype(), x.dim(0), w.dim(0));
            try {
                run(ctx, routesFor(y), x, w, a, b, scale, columnScale, bias, y);
                return y;
            } catch (RuntimeException e) {
                y.close();
                throw e;
            }
        }

        /**
         * Queues {@code y} into {@code out} ({@code [T, N]}, any float dtype) on the plan's context.
         *
         * @param x the input, {@code [T, K]} of the plan's dtype, on its device
         * @param out {@code [T, N]} in any float dtype, overwritten
         * @throws IllegalArgumentException when a shape, dtype or device does not fit
         */
        public void forward(Tensor x, Tensor out) {
            checkOut(ctx, x, w, a, b, columnScale, bias, out);
            run(ctx, routesFor(out), x, w, a, b, scale, columnScale, bias, out);
        }

        /**
         * The kernels a forward of {@code t} tokens (into W's dtype, from aligned inputs, on a stream not being
         * captured) runs, in order, as the PTX names them; {@code ["cpu"]} on the CPU and {@code ["staged"]} for an
         * adapter whose rank must be padded on every call. For diagnostics and checks.
         *
         * @param t the number of tokens
         * @return the kernels' names
         */
        public List<String> kernelsFor(long t) {
            if (routes == null) {
                return List.of("cpu");
            }
            LoraLinearCuda.Route route = routes[t <= GemmCuda.DECODE_MAX_T ? 0 : 1];
            return switch (route.way()) {
                case STAGED -> List.of("staged");
                case DECODE, SHRINK_ON_CHIP -> List.of(route.kernel().name());
                case SHRINK_SEPARATE -> List.of(route.shrink().kernelName(), route.fused().kernelName());
            };
        }

        private LoraLinearCuda.Route[] routesFor(Tensor out) {
            return out.dtype() == w.dtype() ? routes : null;
        }
    }

    private static void run(ExecutionContext ctx, Tensor x, Tensor w, Tensor a, Tensor b, float scale,
                            Tensor columnScale, Tensor bias, Tensor out) {
        run(ctx, null, x, w, a, b, scale, columnScale, bias, out);
    }

    private static void run(ExecutionContext ctx, LoraLinearCuda.Route[] planned, Tensor x, Tensor w, Tensor a,
                            Tensor b, float scale, Tensor columnScale, Tensor bias, Tensor out) {
        if (ctx.isCuda()) {
            LoraLinearCuda.run(planned, x, w, a, b, scale, columnScale, bias, out, ctx);
            ctx.wrote(out);
        } else {
            LoraLinearCpu.run(x, w, a, b, scale, columnScale, bias, out);
        }
    }

    private static void checkOut(ExecutionContext ctx, Tensor x, Tensor w, Tensor a, Tensor b, Tensor columnScale,
                                 Tensor bias, Tensor out) {
        check(ctx, x, w, a, b, columnScale, bias);
        if (!out.dtype().isFloatingPoint() || out.rank() != 2 || out.dim(0) != x.dim(0) || out.dim(1) != w.dim(0)
                || !out.device().equals(x.device())) {
            throw new IllegalArgumentException("LoRA linear: y must be [" + x.dim(0) + ", " + w.dim(0) + "] on "
                    + x.device() + ", got " + out.describe());
        }
    }

    private static void check(ExecutionContext ctx, Tensor x, Tensor w, Tensor a, Tensor b, Tensor columnScale,
                              Tensor bias) {
        if (!x.dtype().isFloatingPoint() || x.rank() != 2) {
            throw new IllegalArgumentException("LoRA linear: x must be F32, F16 or BF16 of shape [T, K], got "
                    + x.describe());
        }
        long k = x.dim(1);
        expect("W", w, x, -1, k);
        expect("A", a, x, -1, k);
        long r = a.dim(0);
        if (r < 1 || r > MAX_RANK) {
            throw new IllegalArgumentException("LoRA linear: rank " + r + " (A " + a.describe() + ") is outside [1, "
                    + MAX_RANK + "]");
        }
        expect("B", b, x, w.dim(0), r);
        if (bias != null && (bias.dtype() != x.dtype() || bias.rank() != 1 || bias.dim(0) != w.dim(0)
                || !bias.device().equals(x.device()))) {
            throw new IllegalArgumentException("LoRA linear: bias must be [" + w.dim(0) + "] " + x.dtype() + " on "
                    + x.device() + ", got " + bias.describe());
        }
        // F32 whatever x's dtype: DoRA's scale is computed in f32 at load, and the epilogue multiplies in f32.
        if (columnScale != null && (columnScale.dtype() != DType.F32 || columnScale.rank() != 1
                || columnScale.dim(0) != w.dim(0) || !columnScale.device().equals(x.device()))) {
            throw new IllegalArgumentException("LoRA linear: column scale must be [" + w.dim(0) + "] F32 on "
                    + x.device() + ", got " + columnScale.describe());
        }
        if (columnScale != null && w.dim(0) > Integer.MAX_VALUE) { // the kernels index the scale in 32 bits
            throw new IllegalArgumentException("LoRA linear: a column scale needs N < 2^31, got N = " + w.dim(0));
        }
        ctx.requireOn("LoRA linear", x);
    }

    private static void expect(String name, Tensor t, Tensor x, long rows, long cols) {
        if (t.dtype() != x.dtype() || t.rank() != 2 || (rows >= 0 && t.dim(0) != rows) || t.dim(1) != cols
                || !t.device().equals(x.device())) {
            throw new IllegalArgumentException("LoRA linear: " + name + " must be [" + (rows >= 0 ? rows : "rows")
                    + ", " + cols + "] " + x.dtype() + " on " + x.device() + ", got " + t.describe());
        }
    }

    /**
     * {@code A} and {@code B} zero-padded to rank {@link #paddedRank}: {@code [A; 0]} ({@code [R', K]}) and
     * {@code [B | 0]} ({@code [N, R']}). The same product (the extra columns of {@code x·Aᵀ} are zeros, met by zero
     * columns of {@code B}), in a form the GPU kernels take as they are: with a rank whose rows are not a multiple
     * of 16 bytes every forward stages such copies itself (four small operations on the stream). Layers that keep
     * an adapter pad it once, at load. Owns its two tensors.
     *
     * @param a {@code [R', K]}: A's rows, then zero rows
     * @param b {@code [N, R']}: B's columns, then zero columns
     */
    public record Padded(Tensor a, Tensor b) implements AutoCloseable {
        @Override
        public void close() {
            a.close();
            b.close();
        }
    }

    /**
     * The smallest rank {@code ≥ r} whose rows of {@code dtype} are a multiple of 16 bytes.
     *
     * @param r the rank {@code R}
     * @param dtype the adapter's dtype
     * @return {@code R'}, a multiple of 8 for F16 and BF16, of 4 for F32
     */
    public static long paddedRank(long r, DType dtype) {
        long perRow = 16 / dtype.byteSize();
        return (r + perRow - 1) / perRow * perRow;
    }

    /**
     * {@link Padded} copies of {@code a} and {@code b}, allocated on {@code ctx} and written in its order. They are
     * kept beyond the context's stream (a layer's adapter), so they are allocated to outlive it.
     *
     * @param ctx the context the copies are queued on; {@code a} lives on its device
     * @param a {@code [R, K]}
     * @param b {@code [N, R]} of a's dtype, on its device
     * @return the padded copies, owned by the caller; allocated outside stream order, so they may outlive the context's
     *     stream
     * @throws IllegalArgumentException when {@code a} is not on {@code ctx}'s device, or the shapes do not fit
     */
    public static Padded padRank(ExecutionContext ctx, Tensor a, Tensor b) {
        ctx.requireOn("LoRA pad rank", a);
        long r = a.dim(0);
        long rp = paddedRank(r, a.dtype());
        Tensor ap = Tensor.zeros(a.device(), a.dtype(), rp, a.dim(1));
        try {
            Tensor bp = Tensor.zeros(b.device(), b.dtype(), b.dim(0), rp);
            try {
                copyIntoPadded(a, b, ap, bp, ctx);
                return new Padded(ap, bp);
            } catch (RuntimeException e) {
                bp.close();
                throw e;
            }
        } catch (RuntimeException e) {
            ap.close();
            throw e;
        }
    }

    /** {@code A} into the first R rows of {@code ap}, {@code B} into the first R columns of {@code bp} (both zeroed). */
    static void copyIntoPadded(Tensor a, Tensor b, Tensor ap, Tensor bp, ExecutionContext ctx) {
        Slabs.copy(ctx, a, 0, 0, ap, 0, a.dim(0));
        Slabs.copy(ctx, b, 1, 0, bp, 0, a.dim(0));
    }

    /** The dtype {@code s·x·Aᵀ} is rounded to: x's, as PEFT's matmul in that dtype does. */
    static DType intermediateDtype(DType x) {
        return x;
    }
}
