package io.tpkernels.bench.cases;

import io.tpkernels.runtime.CudaDevice;

/** Where {@code tpk bench} runs, and the unit its FLOP rates are shown in there. */
enum Backend {
    cpu("GFLOP/s", 1e9), cuda("TFLOP/s", 1e12);

    private final String flopUnit;
    private final double flopsPerUnit;

    Backend(String flopUnit, double flopsPerUnit) {
        this.flopUnit = flopUnit;
        this.flopsPerUnit = flopsPerUnit;
    }

    /** The default: the GPU when one is found, else the CPU. */
    static Backend detect() {
        return CudaDevice.count() > 0 ? cuda : cpu;
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
