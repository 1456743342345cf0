package io.tpkernels.ops;

import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.runtime.CudaKernel;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.DeviceBuffer;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import java.util.function.LongConsumer;

/**
 * {@link LoraLinear} on a GPU. At decode with F16/BF16 one launch does everything ({@link LoraDecodeCuda}); at
 * prefill on an sm_90 device with F16/BF16 and a small rank ({@link LoraShrink}: {@code R ≤ 16} by default) too: the Hopper kernel computes the shrink
 * {@code xa = s·x·Aᵀ} from the X tiles it already holds for the base product and keeps it in registers for the
 * expand ({@link GemmCuda#loraOnChipKernel}, unless {@link LoraShrink} says otherwise). Otherwise the shrink
 * runs first, into a small {@code [T, R]} buffer of this call's own (a GEMM of R output columns), then one fused
 * kernel accumulates {@code x·Wᵀ} and {@code xa·Bᵀ} in the same registers, applies the column scale (DoRA's, if
 * any) and the bias, and writes {@code y} once. The other ways apply both in their one epilogue too.
 *
 * <p>The buffer is per call, not per stream: ranks that share a GPU are threads queueing on the same stream, so a
 * per-stream buffer let one rank's shrink overwrite another's {@code xa} between its two launches (found by the
 * emulator's run of the row-parallel LoRA layer, where each rank's {@code xa} differs). It is allocated and freed
 * in stream order ({@code cuMemAllocAsync}, {@code cuMemFreeAsync}): the free takes effect after the fused kernel,
 * and neither call waits for the GPU, where {@code cuMemFree} would synchronize the device on every forward.
 *
 * <p>A rank whose rows are not a multiple of 16 bytes ({@code R} not a multiple of 8 in F16/BF16, of 4 in F32), or
 * a {@code B} not 16-byte aligned, could not ride the base product's kernel (its tiles load 16 bytes
 * at a time): it would fall to the SIMT kernel, whose sums run in another order, and {@code B = 0} would no longer
 * give the base product exactly. Such a call first stages {@code A} and {@code B} zero-padded to the next aligned
 * rank ({@link LoraLinear#paddedRank}); the extra columns of {@code x·Aᵀ} are exact zeros times zero columns of {@code B}, so
 * the result is the same math, on the same kernel as the base product. The staging costs four small operations on
 * the stream per forward (allocate, zero, two copies) and a free; ranks that are multiples of 8 (of 4 in F32) need
 * none, and layers pad their adapters once at load ({@link LoraLinear#padRank}).
 */
final class LoraLinearCuda {
    private static final long ALIGNMENT = 16;
    /** Where B's copy starts in the staging buffer: cuMemAllocAsync's own alignment, so both parts keep it. */
    private static final long PART_ALIGNMENT = 256;

    private LoraLinearCuda() {
    }

    static void run(Tensor x, Tensor w, Tensor a, Tensor b, float scale, Tensor columnScale, Tensor bias, Tensor out,
                    ExecutionContext ctx) {
        run(null, x, w, a, b, scale, columnScale, bias, out, ctx);
    }

    /**
     * The forward through {@code planned}, the routes a layer chose when it was built ({@link #plan}; {@code null}:
     * choose now). A call the plan does not fit (x not 16-byte aligned, or a stream being captured, where the decode
     * kernel cannot run) is routed now.
     */
    static void run(Route[] planned, Tensor x, Tensor w, Tensor a, Tensor b, float scale, Tensor columnScale,
                    Tensor bias, Tensor out, ExecutionContext ctx) {
        long t = x.dim(0);
        long n = w.dim(0);
        if (t == 0 || n == 0) {
            return;
        }
        Route route = planned == null ? null : planned[bucket(t)];
        if (route == null || !GemmCuda.aligned(x.devicePointer())
                || (route.way() == Way.DECODE && ctx.stream().isCapturing())) {
            route = route(x, w, a, b, out, ctx);
        }
        switch (route.way()) {
            case STAGED -> runStaged(x, w, a, b, scale, columnScale, bias, out, ctx);
            case DECODE -> LoraDecodeCuda.launch(route.kernel(), x, w, a, b, scale, columnScale, bias, out, ctx);
            case SHRINK_ON_CHIP ->
                    GemmCuda.launchLoraOnChip(route.kernel(), x, w, a, b, scale, columnScale, bias, out, ctx);
            case SHRINK_SEPARATE -> runShrinkThenFused(route, x, w, a, b, scale, columnScale, bias, out, ctx);
        }
    }

    /** The ways a forward runs: see the class comment. */
    enum Way { STAGED, DECODE, SHRINK_ON_CHIP, SHRINK_SEPARATE }

    /**
     * How a forward runs: for {@link Way#DECODE} and {@link Way#SHRINK_ON_CHIP} the kernel, for
     * {@link Way#SHRINK_SEPARATE} the choices of its two GEMMs (each {@code null} where not decided ahead).
     */
    record Route(Way way, CudaKernel kernel, GemmCuda.Choice shrink, GemmCuda.Choice fused) {
        static Route of(Way way, CudaKernel kernel) {
            return new Route(way, kernel, null, null);
        }
    }

    /** Which of a plan's routes serves {@code t} tokens: 0 up to {@link GemmCuda#DECODE_MAX_T}, 1 above. */
    private static int bucket(long t) {
        return t <= GemmCuda.DECODE_MAX_T ? 0 : 1;
    }

    /**
     * A layer's routes, decided once for its fixed operands ({@code w}, {@code a}, {@code b}, an epilogue or not,
     * the output dtype) on {@code ctx}, one per side of the decode bound, for inputs whose pointers are aligned: the
     * kernels are looked up (and their modules loaded) here, not on every forward.
     */
    static Route[] plan(ExecutionContext ctx, Tensor w, Tensor a, Tensor b, boolean epilogue, DType out) {
        Route[] routes = new Route[2];
        long[] tokens = {1, GemmCuda.DECODE_MAX_T + 1};
        for (int i = 0; i < routes.length; i++) {
            routes[i] = plannedRoute(ctx, tokens[i], w, a, b, epilogue, out);
        }
        return routes;
    }

    private static Route plannedRoute(ExecutionContext ctx, long t, Tensor w, Tensor a, Tensor b, boolean epilogue,
                                      DType out) {
        if (needsStaging(a, b)) {
            return Route.of(Way.STAGED, null);
        }
        DType in = w.dtype();
        long k = w.dim(1);
        long r = a.dim(0);
        long n = w.dim(0);
        boolean aligned = GemmCuda.aligned(w.devicePointer(), a.devicePointer(), b.devicePointer());
        if (LoraDecodeCuda.takesShape(in, t, k, r, aligned)) {
            CudaKernel decode = LoraDecodeCuda.kernel(ctx, in, out);
            if (passes(ctx, decode, in, out, 0)) {
                return Route.of(Way.DECODE, decode);
            }
        }
        CudaKernel onChip = GemmCuda.loraOnChipKernel(ctx, in, out, t, k, r, n, aligned);
        if (onChip != null && passes(ctx, onChip, in, out, Math.toIntExact(r))) {
            return Route.of(Way.SHRINK_ON_CHIP, onChip);
        }
        DType mid = LoraLinear.intermediateDtype(in);
        return new Route(Way.SHRINK_SEPARATE, null,
                GemmCuda.choose(ctx, in, mid, t, k, 0, false, r, r, aligned),
                GemmCuda.choose(ctx, in, out, t, k, r, epilogue, n, n, aligned));
    }

    /** How a forward with these (non-empty) operands runs now, on this thread and stream. */
    static Route route(Tensor x, Tensor w, Tensor a, Tensor b, Tensor out, ExecutionContext ctx) {
        if (needsStaging(a, b)) {
            return Route.of(Way.STAGED, null);
        }
        if (LoraDecodeCuda.takes(x, w, a, b, ctx)) {
            CudaKernel decode = LoraDecodeCuda.kernel(ctx, x.dtype(), out.dtype());
            if (passes(ctx, decode, x.dtype(), out.dtype(), 0)) {
                return Route.of(Way.DECODE, decode);
            }
        }
        CudaKernel onChip = GemmCuda.loraOnChipKernel(x, w, a, b, out, ctx);
        return onChip != null && passes(ctx, onChip, x.dtype(), out.dtype(), Math.toIntExact(a.dim(0)))
                ? Route.of(Way.SHRINK_ON_CHIP, onChip) : Route.of(Way.SHRINK_SEPARATE, null);
    }

    /**
     * Whether the one-launch kernel {@code kernel} may run: the decode one ({@code onChipRank} 0), or the Hopper one
     * with the shrink on chip, chosen for that rank. Always without self-checks, else once it has passed its own
     * ({@link SelfChecks}); if it fails, the forward takes the shrink and the fused GEMM as two launches.
     */
    private static boolean passes(ExecutionContext ctx, CudaKernel kernel, DType in, DType out, int onChipRank) {
        return !ctx.tuning().selfCheck() || ctx.cudaDevice().kernelHealth().usable(kernel.name(),
                "the shrink and the fused GEMM as two launches", checking -> onChipRank == 0
                        ? SelfChecks.loraDecode(checking, kernel, in, out)
                        : SelfChecks.loraOnChip(checking, kernel, in, out, onChipRank));
    }

    private static boolean needsStaging(Tensor a, Tensor b) {
        long r = a.dim(0);
        // A misaligned A is left as it is: it is read only by the shrink, which the base product never shares.
        return LoraLinear.paddedRank(r, a.dtype()) != r || b.devicePointer() % ALIGNMENT != 0;
    }

    /** {@code A' = [A; 0]} ({@code [R', K]}) and {@code B' = [B | 0]} ({@code [N, R']}), then the aligned forward. */
    private static void runStaged(Tensor x, Tensor w, Tensor a, Tensor b, float scale, Tensor columnScale,
                                  Tensor bias, Tensor out, ExecutionContext ctx) {
        DType dtype = a.dtype();
        long r = a.dim(0);
        long k = a.dim(1);
        long n = b.dim(0);
        long rp = LoraLinear.paddedRank(r, dtype);
        long aBytes = rp * k * dtype.byteSize();
        long bOffset = (aBytes + PART_ALIGNMENT - 1) / PART_ALIGNMENT * PART_ALIGNMENT;
        long bytes = Math.max(1, bOffset + n * rp * dtype.byteSize());
        withScratch(ctx, bytes, pointer -> {
            DeviceBuffer staging = DeviceBuffer.wrap(ctx.cudaDevice(), pointer, bytes);
            try (Tensor ap = Tensor.view(staging, 0, dtype, rp, k);
                 Tensor bp = Tensor.view(staging, bOffset, dtype, n, rp)) {
                CudaDriver.memsetD8Async(pointer, (byte) 0, bytes, ctx.stream().handle());
                LoraLinear.copyIntoPadded(a, b, ap, bp, ctx);
                run(x, w, ap, bp, scale, columnScale, bias, out, ctx);
            }
        });
    }

    private static void runShrinkThenFused(Route route, Tensor x, Tensor w, Tensor a, Tensor b, float scale,
                                           Tensor columnScale, Tensor bias, Tensor out, ExecutionContext ctx) {
        long t = x.dim(0);
        long r = a.dim(0);
        long n = w.dim(0);
        DType dtype = LoraLinear.intermediateDtype(x.dtype());
        long bytes = Math.max(1, t * r * dtype.byteSize());
        withScratch(ctx, bytes, pointer -> {
            try (Tensor xa = Tensor.view(DeviceBuffer.wrap(ctx.cudaDevice(), pointer, bytes), 0, dtype, t, r)) {
                // The column scale belongs to y's columns: the fused step's, never the shrink's.
                GemmCuda.launch(route.shrink(), x, a, null, null, null, null, r, scale, xa, ctx);
                GemmCuda.launch(route.fused(), x, w, xa, b, bias, columnScale, n, 1f, out, ctx);
            }
        });
    }

    /**
     * Runs {@code body} with {@code bytes} of device memory allocated and freed in {@code stream}'s order. If the body
     * fails, a failure to free (likely after a sticky CUDA error) is attached to its exception, not thrown instead.
     */
    private static void withScratch(ExecutionContext ctx, long bytes, LongConsumer body) {
        ctx.cudaDevice().makeCurrent();
        long pointer = CudaDriver.memAllocAsync(bytes, ctx.stream().handle());
        try {
            body.accept(pointer);
        } catch (RuntimeException e) {
            try {
                CudaDriver.memFreeAsync(pointer, ctx.stream().handle());
            } catch (RuntimeException f) {
                e.addSuppressed(f);
            }
            throw e;
        }
        CudaDriver.memFreeAsync(pointer, ctx.stream().handle());
    }
}
