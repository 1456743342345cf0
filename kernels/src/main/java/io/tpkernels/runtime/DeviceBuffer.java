package io.tpkernels.runtime;

import io.tpkernels.ffm.cuda.CudaDriver;
import java.util.Objects;

/**
 * Device memory: either allocated here by {@code cuMemAlloc} and freed by {@link #close()}, or a view of memory
 * that someone else allocated and frees ({@link #wrap}), which {@link #close()} only marks closed. Either way, use
 * after close is an {@link IllegalStateException} naming the buffer, never a stale pointer handed to a kernel.
 *
 * <p>Use and close are exclusive: {@link #close()} waits for the {@linkplain #acquire() accesses} in flight before
 * it frees the memory (or, for a wrapped buffer, before it returns, so that the owner may then free it). Code that
 * hands {@link #pointer()} to the driver holds an access from before it reads the pointer until the call has
 * returned. An asynchronous use (a launch, an async copy) needs the access only until it is queued: freeing
 * device memory waits for the device's work that was queued before it.
 */
public final class DeviceBuffer implements Memory {
    private final CudaDevice device;
    private final long bytes;
    private final boolean owner;
    private final MemoryMeter.Charge charge;
    private final Lifetime lifetime = new Lifetime();
    /** The stream it was allocated in the order of, and is freed in the order of; {@code null}: at once. */
    private final CudaStream stream;
    private volatile long pointer;
    /** The context that last queued a write to it, whose deferred checks a host read must read first. */
    private volatile ExecutionContext writer;

    private DeviceBuffer(CudaDevice device, long bytes, long pointer, boolean owner, MemoryMeter.Charge charge,
                         CudaStream stream) {
        this.device = device;
        this.bytes = bytes;
        this.pointer = pointer;
        this.owner = owner;
        this.charge = charge;
        this.stream = stream;
    }

    static DeviceBuffer allocate(CudaDevice device, long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("cannot allocate " + bytes + " bytes on " + device);
        }
        device.makeCurrent();
        // cuMemAlloc rejects 0 bytes; a 1-byte allocation keeps empty tensors valid and distinct.
        long pointer = CudaDriver.memAlloc(Math.max(bytes, 1));
        return new DeviceBuffer(device, bytes, pointer, true, MemoryMeter.charge(device.device(), bytes), null);
    }

    /**
     * {@code bytes} allocated in {@code stream}'s order, and freed in it by {@link #close()}: no host wait either way.
     * Work on other streams that uses it must be ordered with that stream by events.
     */
    static DeviceBuffer allocate(CudaStream stream, long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("cannot allocate " + bytes + " bytes on " + stream.device());
        }
        long pointer = stream.allocate(Math.max(bytes, 1));
        return new DeviceBuffer(stream.device(), bytes, pointer, true, MemoryMeter.charge(stream.device().device(),
                bytes), stream);
    }

    void writtenBy(ExecutionContext context) {
        if (writer != context) {
            writer = context;
        }
    }

    /** Reads the deferred checks of the context that wrote this buffer, if it has any (waiting for its stream). */
    void verifyWriter() {
        ExecutionContext w = writer;
        if (w != null && w.hasDeferredChecks()) {
            w.synchronize();
        }
    }

    ExecutionContext writer() {
        return writer;
    }

    /**
     * The {@code bytes} of device memory at {@code pointer} on {@code device}, allocated and freed by someone else
     * (another library in the process, JCuda say): no copy, and {@link #close()} frees nothing, it only makes later
     * use of this buffer an {@link IllegalStateException}. The owner must keep the memory allocated while this
     * buffer is used; that cannot be checked here.
     *
     * @param device the device whose context the memory belongs to
     * @param pointer the device address, not 0
     * @param bytes the size, {@code >= 0}
     * @return a buffer that frees nothing when closed
     * @throws IllegalArgumentException when {@code pointer} is 0 or {@code bytes} is negative
     */
    public static DeviceBuffer wrap(CudaDevice device, long pointer, long bytes) {
        Objects.requireNonNull(device, "device");
        if (pointer == 0 || bytes < 0) {
            throw new IllegalArgumentException("cannot wrap " + bytes + " bytes of device memory at 0x"
                    + Long.toHexString(pointer) + " on " + device + ": need a non-null pointer and a size >= 0");
        }
        return new DeviceBuffer(device, bytes, pointer, false, MemoryMeter.Charge.NONE, null);
    }

    /**
     * The device pointer. It stays valid only while an {@link #acquire() access} is held (or while nothing can
     * close the buffer).
     *
     * @return the device address of the first byte
     * @throws IllegalStateException when the buffer was closed
     */
    public long pointer() {
        long p = pointer;
        if (p == 0) {
            throw new IllegalStateException(closedMessage());
        }
        return p;
    }

    @Override
    public Access acquire() {
        return lifetime.acquire(this::closedMessage);
    }

    private String closedMessage() {
        return "device buffer of " + bytes + " bytes on " + device + " was used after it was closed";
    }

    /**
     * The device that holds it.
     *
     * @return the device
     */
    public CudaDevice cudaDevice() {
        return device;
    }

    @Override
    public Device device() {
        return device.device();
    }

    @Override
    public long byteSize() {
        return bytes;
    }

    @Override
    public boolean isOpen() {
        return lifetime.isOpen();
    }

    /**
     * Waits for the accesses in flight, then frees the memory if it was allocated here; a wrapped buffer is only
     * marked closed.
     */
    @Override
    public void close() {
        closeOn(stream);
    }

    /**
     * As {@link #close()}, but memory allocated in stream order is freed in {@code other}'s order instead of its own
     * stream's: for a buffer handed to another stream (ordered after the allocating one by an event), whose last use
     * is queued there.
     */
    synchronized void closeOn(CudaStream other) {
        lifetime.close();
        long p = pointer;
        if (p != 0) {
            pointer = 0;
            if (owner) {
                if (stream != null) {
                    (other != null ? other : stream).free(p);
                } else {
                    device.makeCurrent();
                    CudaDriver.memFree(p);
                }
                charge.release();
            }
        }
    }
}
