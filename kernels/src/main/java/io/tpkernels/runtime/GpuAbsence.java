package io.tpkernels.runtime;

import io.tpkernels.ffm.cuda.CudaDriver;
import java.lang.System.Logger.Level;
import java.util.Optional;
import java.util.function.IntSupplier;

/**
 * Why no GPU is used, in one sentence, and how loudly to say so: a machine without the CUDA driver, or whose driver
 * sees no device, is an ordinary CPU machine ({@code INFO}); a driver that is there but cannot be used (native access
 * denied, a failing {@code cuInit}) is a setup to fix ({@code WARNING}).
 */
record GpuAbsence(String reason, Level level) {

    /** The sentence for a machine without the driver library. */
    static final String NO_DRIVER = "the CUDA driver (libcuda.so.1) was not found (not installed, or not in"
            + " TPK_CUDA_LIBRARY_PATH, LD_LIBRARY_PATH or the dynamic loader's search)";

    /** The sentence for a driver that sees no device. */
    static final String NO_DEVICE = "the CUDA driver reports no devices";

    /** Why this process uses no GPU; empty when it has one. */
    static Optional<GpuAbsence> here() {
        return of(CudaDriver.library().isMissing(), CudaDriver.unavailableReason(), CudaDriver::deviceCount);
    }

    /**
     * The decision: {@code driverMissing} when no file of the driver was found, {@code driverFailure} why the
     * driver cannot be used (empty when it can), {@code devices} asked only of a usable driver.
     */
    static Optional<GpuAbsence> of(boolean driverMissing, Optional<String> driverFailure, IntSupplier devices) {
        if (driverMissing) {
            return Optional.of(new GpuAbsence(NO_DRIVER, Level.INFO));
        }
        if (driverFailure.isPresent()) {
            return Optional.of(new GpuAbsence(driverFailure.get(), Level.WARNING));
        }
        return devices.getAsInt() == 0 ? Optional.of(new GpuAbsence(NO_DEVICE, Level.INFO)) : Optional.empty();
    }
}
