package io.tpkernels.tensor;

/**
 * A block of memory with an explicit owner: host memory ({@link HostMemory}) or device memory
 * ({@code io.tpkernels.gpu.DeviceBuffer}). Closing frees it (a wrapper of memory owned elsewhere frees nothing);
 * any later use is an {@link IllegalStateException}, never a crash. Closing twice is harmless.
 */
public interface Memory extends AutoCloseable {

    /** Where the memory lives. */
    Device device();

    /** Its size in bytes. */
    long byteSize();

    /** Whether it has not been closed. */
    boolean isOpen();

    /** Frees the memory. */
    @Override
    void close();
}
