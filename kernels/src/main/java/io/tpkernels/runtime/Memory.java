package io.tpkernels.runtime;

/**
 * A block of memory with an explicit owner: host memory ({@link HostMemory}) or device memory
 * ({@code io.tpkernels.runtime.DeviceBuffer}). Closing frees it (a wrapper of memory owned elsewhere frees nothing);
 * any later use is an {@link IllegalStateException}, never a crash. Closing twice is harmless.
 *
 * <p>Use and close are exclusive: code that hands the memory to native code, or reads or writes it, holds an
 * {@link Access} for the whole use ({@link #acquire()}), and {@link #close()} waits until no access is in flight
 * before it frees anything. An acquire after closing began is an {@link IllegalStateException}. (See
 * {@link Lifetime}, which implementations use for this.)
 */
public interface Memory extends AutoCloseable {

    /**
     * Where the memory lives.
     *
     * @return {@link Device#CPU} or the CUDA device
     */
    Device device();

    /**
     * Its size in bytes.
     *
     * @return the size, {@code >= 0}
     */
    long byteSize();

    /**
     * Whether it has not been closed.
     *
     * @return {@code false} once closing began
     */
    boolean isOpen();

    /**
     * Holds the memory open until the returned access is closed: {@link #close()} waits for it.
     *
     * @return the access, to close when the use is done
     * @throws IllegalStateException once closing began (the memory was used after close)
     */
    Access acquire();

    /**
     * Frees the memory once no {@link Access} is in flight: later acquires fail at once, and the call waits for
     * the accesses already held. A thread must not close memory it holds an access to.
     */
    @Override
    void close();

    /**
     * A use of a {@link Memory} in progress, which keeps it from being freed; close it (with try-with-resources)
     * when the use is done. Closing it twice is harmless. It belongs to the thread that acquired it.
     */
    interface Access extends AutoCloseable {
        /** Ends the use: a close waiting for it may go on. */
        @Override
        void close();
    }
}
