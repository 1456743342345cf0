package io.tpkernels.ops;

import io.tpkernels.cuda.sources.KernelConstants;
import io.tpkernels.cuda.sources.KernelNames;
import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.CudaKernel;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.KernelArgs;
import io.tpkernels.runtime.Memory;
import io.tpkernels.runtime.Tensor;
import java.util.Locale;

/** {@link Cast} on a GPU: one launch of {@code cast.cu}'s kernel for the dtype pair. */
final class CastCuda {
    private static final int THREADS = KernelConstants.CAST_THREADS;
    private static final int ELEMENTS_PER_THREAD = KernelConstants.CAST_ELEMENTS_PER_THREAD;
    /** Resident blocks per multiprocessor to aim for: enough loads in flight to saturate memory bandwidth. */
    private static final int BLOCKS_PER_SM = 8;

    /** {@code tpk_cast_<from>_to_<to>} by dtype ordinals, built once so a launch builds no strings. */
    private static final String[][] KERNEL_NAMES = new String[DType.values().length][DType.values().length];

    static {
        for (DType from : DType.values()) {
            for (DType to : DType.values()) {
                KERNEL_NAMES[from.ordinal()][to.ordinal()] = "tpk_cast_" + from.name().toLowerCase(Locale.ROOT)
                        + "_to_" + to.name().toLowerCase(Locale.ROOT);
            }
        }
    }

    private CastCuda() {
    }

    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    static void run(Tensor src, Tensor dst, ExecutionContext ctx) {
        long n = src.numel();
        if (src.dtype() == dst.dtype()) {
            dst.copyFromAsync(src, ctx.stream());
            return;
        }
        if (n == 0) {
            return;
        }
        CudaDevice device = src.cudaDevice();
        CudaKernel kernel = ctx.kernel(KernelNames.MODULE_CAST,
                KERNEL_NAMES[src.dtype().ordinal()][dst.dtype().ordinal()]);
        long needed = (n + (long) THREADS * ELEMENTS_PER_THREAD - 1) / ((long) THREADS * ELEMENTS_PER_THREAD);
        int blocks = (int) Math.max(1, Math.min(needed, (long) device.multiprocessors() * BLOCKS_PER_SM));
        try (Memory.Access use = Tensor.acquireAll(src, dst)) {
            kernel.launch(ctx, blocks, THREADS, 0,
                    KernelArgs.begin().ptr(dst.devicePointer()).ptr(src.devicePointer()).i64(n));
        }
    }
}
