package io.tpkernels.bench.cases;

import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.runtime.CudaDevice;

/**
 * Where the kernels run, as {@code --backend} names it: the CPU, or the visible CUDA devices. {@code tpk forward}
 * and {@code tpk demo} place their pipeline stages by it; {@code tpk bench} also shows its FLOP rates in the unit
 * that fits the device.
 */
public enum Backend {
    cpu("GFLOP/s", 1e9), cuda("TFLOP/s", 1e12);

    private final String flopUnit;
    private final double flopsPerUnit;

    Backend(String flopUnit, double flopsPerUnit) {
        this.flopUnit = flopUnit;
        this.flopsPerUnit = flopsPerUnit;
    }

    /** The default: the GPU when one is found, else the CPU. */
    public static Backend detect() {
        return CudaDevice.count() > 0 ? cuda : cpu;
    }

    /** {@code requested}, or {@link #detect()} when it is null; CUDA without a GPU is an error. */
    public static Backend resolve(Backend requested) {
        if (requested == null) {
            return detect();
        }
        if (requested == cuda && CudaDevice.count() == 0) {
            throw new IllegalArgumentException("--backend cuda needs a GPU, and none was found: "
                    + (CudaDriver.library().isMissing() ? "the CUDA driver (libcuda.so.1) is not installed"
                    : CudaDriver.unavailableReason().orElse("no CUDA device is visible")));
        }
        return requested;
    }

    /** The device ordinal for pipeline stage {@code stage}: the stages take turns over the GPUs; −1 is the CPU. */
    public int deviceOf(int stage) {
        return this == cpu ? -1 : stage % CudaDevice.count();
    }

    /** "TFLOP/s" on a GPU, "GFLOP/s" on the CPU. */
    String flopUnit() {
        return flopUnit;
    }

    /** A rate in FLOP/s in {@link #flopUnit()}. */
    double inFlopUnit(double flopPerSecond) {
        return flopPerSecond / flopsPerUnit;
    }
}
