package io.tpkernels.gpu;

import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.tensor.Device;
import io.tpkernels.tensor.Memory;
import io.tpkernels.tensor.MemoryMeter;

/**
 * Device memory from {@code cuMemAlloc}, freed by {@link #close()}. Use after close is an
 * {@link IllegalStateException} naming the buffer, never a stale pointer handed to a kernel.
 */
public final class DeviceBuffer implements Memory {
    private final CudaDevice device;
    private final long bytes;
    private final MemoryMeter.Charge charge;
    private volatile long pointer;

    private DeviceBuffer(CudaDevice device, long bytes, long pointer, MemoryMeter.Charge charge) {
        this.device = device;
        this.bytes = bytes;
        this.pointer = pointer;
        this.charge = charge;
    }

    static DeviceBuffer allocate(CudaDevice device, long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("cannot allocate " + bytes + " bytes on " + device);
        }
        device.makeCurrent();
        // cuMemAlloc rejects 0 bytes; a 1-byte allocation keeps empty tensors valid and distinct.
        long pointer = CudaDriver.memAlloc(Math.max(bytes, 1));
        return new DeviceBuffer(device, bytes, pointer, MemoryMeter.charge(device.device(), bytes));
    }

    /** The device pointer. */
    public long pointer() {
        long p = pointer;
        if (p == 0) {
            throw new IllegalStateException("device buffer of " + bytes + " bytes on " + device + " was already closed");
        }
        return p;
    }

    /** The device that holds it. */
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
        return pointer != 0;
    }

    @Override
    public synchronized void close() {
        long p = pointer;
        if (p != 0) {
            pointer = 0;
            device.makeCurrent();
            CudaDriver.memFree(p);
            charge.release();
        }
    }
}
