package io.tpkernels.cli;

import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.runtime.CudaDevice;

/** Where the kernels run: the CPU, or the visible CUDA devices. */
enum Backend {
    CPU, CUDA;

    /** {@code requested}, or CUDA when a GPU is visible and CPU otherwise; CUDA without a GPU is an error. */
    static Backend resolve(Backend requested) {
        boolean gpu = CudaDriver.isAvailable() && CudaDevice.count() > 0;
        if (requested == null) {
            return gpu ? CUDA : CPU;
        }
        if (requested == CUDA && !gpu) {
            throw new IllegalArgumentException("--backend cuda needs a GPU, and none was found: "
                    + (CudaDriver.library().isMissing() ? "the CUDA driver (libcuda.so.1) is not installed"
                    : CudaDriver.unavailableReason().orElse("no CUDA device is visible")));
        }
        return requested;
    }

    /** The device ordinal for pipeline stage {@code stage}: the stages take turns over the GPUs; −1 is the CPU. */
    int deviceOf(int stage) {
        return this == CPU ? -1 : stage % CudaDevice.count();
    }
}
