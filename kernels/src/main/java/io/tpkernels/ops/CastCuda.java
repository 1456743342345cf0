package io.tpkernels.ops;

import io.tpkernels.gpu.CudaDevice;
import io.tpkernels.gpu.CudaKernel;
import io.tpkernels.gpu.CudaStream;
import io.tpkernels.gpu.KernelArgs;
import io.tpkernels.tensor.Tensor;
import java.util.Locale;

/** {@link Cast} on a GPU: one launch of {@code cast.cu}'s kernel for the dtype pair. */
final class CastCuda {
    private static final int THREADS = 256;
    private static final int ELEMENTS_PER_THREAD = 4;
    /** Resident blocks per multiprocessor to aim for: enough loads in flight to saturate memory bandwidth. */
    private static final int BLOCKS_PER_SM = 8;

    private CastCuda() {
    }

    static void run(Tensor src, Tensor dst, CudaStream stream) {
        long n = src.numel();
        if (src.dtype() == dst.dtype()) {
            dst.copyFromAsync(src, stream);
            return;
        }
        if (n == 0) {
            return;
        }
        CudaDevice device = src.cudaDevice();
        String name = "tpk_cast_" + src.dtype().name().toLowerCase(Locale.ROOT) + "_to_"
                + dst.dtype().name().toLowerCase(Locale.ROOT);
        CudaKernel kernel = device.modules().kernel("cast", name);
        long needed = (n + (long) THREADS * ELEMENTS_PER_THREAD - 1) / ((long) THREADS * ELEMENTS_PER_THREAD);
        int blocks = (int) Math.max(1, Math.min(needed, (long) device.multiprocessors() * BLOCKS_PER_SM));
        kernel.launch(stream, blocks, THREADS, 0,
                KernelArgs.begin().ptr(dst.devicePointer()).ptr(src.devicePointer()).i64(n));
    }
}
