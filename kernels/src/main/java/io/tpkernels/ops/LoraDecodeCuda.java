package io.tpkernels.ops;

import io.tpkernels.cuda.sources.KernelConstants;
import io.tpkernels.cuda.sources.KernelNames;
import io.tpkernels.runtime.CudaKernel;
import io.tpkernels.runtime.CudaStream;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.KernelArgs;
import io.tpkernels.runtime.Memory;
import io.tpkernels.runtime.Tensor;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@link LoraLinear} at decode ({@code T ≤ 16}, F16/BF16, 16-byte rows) in one launch of {@code lora_decode.cu}: the
 * shrink {@code xa = s·x·Aᵀ} split over k into blocks that run beside the base product's, which wait for {@code xa}
 * only before their expand step (and compute what no block has claimed yet, if anything). As a launch of its own
 * the shrink would be a short one-block kernel in front of a base product of a few tens of microseconds, most of
 * LoRA's 10% budget.
 *
 * <p>The kernel's workspace is the stream's {@linkplain CudaStream#scratch() scratch}: the arrival counter (which
 * every launch leaves at 0), the {@code ready} flag, the claim word, the partial sums and {@code xa}. Each launch
 * has its own epoch, different from the previous launch's, so neither a stale {@code ready} nor a stale claim word
 * is mistaken for its own.
 */
final class LoraDecodeCuda {
    /** Rows of A per shrink block, columns of y per base block. */
    private static final int COLS = KernelConstants.GEMM_MMA_DECODE_COLS;
    private static final int THREADS = KernelConstants.GEMM_MMA_DECODE_THREADS;
    private static final int KSTEP = KernelConstants.GEMM_MMA_DECODE_KSTEP; // the decode body's k per step
    /** The shortest k-range worth a shrink block (8 steps of the decode body): shorter, it is mostly latency. */
    private static final int MIN_KSLICE = 256;
    private static final int MAX_SPLITS = 32;
    /** Partial sums the scratch holds, and the most the one reducing block adds up (under 128 per thread). */
    private static final int MAX_PARTIALS = 16384;
    private static final long ARRIVED = 0;
    private static final long READY = 4;
    private static final long CLAIMS = 8;
    private static final long PARTIALS = 256;
    private static final long XA = PARTIALS + 4L * MAX_PARTIALS;
    private static final AtomicInteger EPOCHS = new AtomicInteger();
    /** {@code tpk_lora_decode_<in>_<out>} by dtype ordinals, built once so a launch builds no strings. */
    private static final String[][] NAMES = new String[DType.values().length][DType.values().length];

    static {
        for (DType in : DType.values()) {
            for (DType out : DType.values()) {
                NAMES[in.ordinal()][out.ordinal()] = "tpk_lora_decode_" + in.name().toLowerCase(Locale.ROOT) + "_"
                        + out.name().toLowerCase(Locale.ROOT);
            }
        }
        long xaBytes = (long) GemmCuda.DECODE_MAX_T * LoraLinear.MAX_RANK * 2;
        if (XA + xaBytes > CudaStream.SCRATCH_BYTES) {
            throw new AssertionError("lora_decode's workspace exceeds a stream's scratch");
        }
    }

    private LoraDecodeCuda() {
    }

    /**
     * Whether the one-launch decode kernel takes this forward: the shapes and alignment the decode body needs, on a
     * stream that is not being captured into a CUDA graph (a replay would reuse the launch's epoch, whose
     * {@code ready} flag the first replay already set, and read the previous call's {@code xa}).
     */
    static boolean takes(Tensor x, Tensor w, Tensor a, Tensor b, ExecutionContext ctx) {
        return takesShape(x.dtype(), x.dim(0), x.dim(1), a.dim(0),
                GemmCuda.aligned(x.devicePointer(), w.devicePointer(), a.devicePointer(), b.devicePointer()))
                && !ctx.stream().isCapturing();
    }

    /** The shape and alignment part of {@link #takes}, which a layer decides once. */
    static boolean takesShape(DType dtype, long t, long k, long r, boolean pointersAligned) {
        return dtype != DType.F32 && t <= GemmCuda.DECODE_MAX_T && k > 0
                && GemmCuda.path(dtype, t, k, r, pointersAligned) == GemmCuda.Path.MMA_DECODE;
    }

    /** The decode kernel for these dtypes, loaded on {@code ctx}'s device. */
    static CudaKernel kernel(ExecutionContext ctx, DType in, DType out) {
        return ctx.kernel(KernelNames.MODULE_LORA_DECODE, NAMES[in.ordinal()][out.ordinal()]);
    }

    /**
     * Queues {@code out = c ⊙ (x·Wᵀ + round(s·x·Aᵀ)·Bᵀ) + bias} on {@code stream}, the column scale {@code c} (F32
     * {@code [N]}) and {@code bias} each possibly {@code null}; shapes checked by the caller.
     */
    static void launch(Tensor x, Tensor w, Tensor a, Tensor b, float scale, Tensor columnScale, Tensor bias, Tensor out,
                       ExecutionContext ctx) {
        launch(kernel(ctx, x.dtype(), out.dtype()), x, w, a, b, scale, columnScale, bias, out, ctx);
    }

    /** As {@link #launch(Tensor, Tensor, Tensor, Tensor, float, Tensor, Tensor, Tensor, ExecutionContext)}, through
     * {@code kernel}, what {@link #kernel} gave for these dtypes. */
    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    static void launch(CudaKernel kernel, Tensor x, Tensor w, Tensor a, Tensor b, float scale, Tensor columnScale,
                       Tensor bias, Tensor out, ExecutionContext ctx) {
        try (Memory.Access use = Tensor.acquireAll(x, w, a, b, columnScale, bias, out)) {
            int t = Math.toIntExact(x.dim(0));
            int k = Math.toIntExact(x.dim(1));
            int r = Math.toIntExact(a.dim(0));
            long n = w.dim(0);
            int splits = Math.clamp(Math.min(k / MIN_KSLICE, MAX_PARTIALS / (t * r)), 1, MAX_SPLITS);
            int kslice = ceilDiv(ceilDiv(k, splits), KSTEP) * KSTEP;
            splits = ceilDiv(k, kslice); // no empty split
            long scratch = ctx.stream().scratch().pointer();
            int epoch;
            do {
                epoch = EPOCHS.incrementAndGet();
            } while (epoch == 0); // ready starts at 0
            KernelArgs args = KernelArgs.begin().ptr(out.devicePointer()).ptr(x.devicePointer()).ptr(w.devicePointer())
                    .ptr(a.devicePointer()).ptr(b.devicePointer()).ptr(GemmCuda.pointer(bias))
                    .ptr(GemmCuda.pointer(columnScale)).i32(t).i32(k).i32(r).i64(n).f32(scale).ptr(scratch + PARTIALS).ptr(scratch + XA).ptr(scratch + ARRIVED)
                    .ptr(scratch + READY).ptr(scratch + CLAIMS).i32(epoch).i32(splits).i32(kslice);
            int blocks = Math.toIntExact(ceilDiv(r, COLS) * (long) splits + ceilDiv(n, COLS));
            kernel.launch(ctx, blocks, THREADS, 0, args);
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
