package io.tpkernels.runtime;

/**
 * Where a tensor's memory lives: the host ({@link #CPU}) or a CUDA device by ordinal. A plain value: two
 * equal devices are the same place. Opening a device's context is {@code io.tpkernels.runtime.CudaDevice}'s job.
 */
public sealed interface Device {

    /** Host memory; operations run on the CPU backend. */
    Device CPU = new Cpu();

    /**
     * The CUDA device with this ordinal (as the driver numbers them, after {@code CUDA_VISIBLE_DEVICES}).
     *
     * @param ordinal the device's ordinal, {@code >= 0}; whether such a device exists is checked when its context is
     *     opened
     * @return the device, equal to every other {@code cuda(ordinal)} of the same ordinal
     * @throws IllegalArgumentException when {@code ordinal} is negative
     */
    static Device cuda(int ordinal) {
        if (ordinal < 0) {
            throw new IllegalArgumentException("CUDA device ordinal must be >= 0, got " + ordinal);
        }
        return new Cuda(ordinal);
    }

    /**
     * Whether this is a CUDA device.
     *
     * @return {@code true} for a CUDA device, {@code false} for {@link #CPU}
     */
    default boolean isCuda() {
        return this instanceof Cuda;
    }

    /** The host. */
    record Cpu() implements Device {
        @Override
        public String toString() {
            return "cpu";
        }
    }

    /**
     * A CUDA device.
     *
     * @param ordinal the driver's ordinal of the device, {@code >= 0}
     */
    record Cuda(int ordinal) implements Device {
        @Override
        public String toString() {
            return "cuda:" + ordinal;
        }
    }
}
