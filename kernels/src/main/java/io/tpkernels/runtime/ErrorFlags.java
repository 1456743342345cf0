package io.tpkernels.runtime;

import io.tpkernels.ffm.cuda.CudaDriver;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Device-side error flags: 8-byte device words that a kernel lowers with {@code atomicMin} to report the first
 * offending position (of a bad token id, say). A flag is borrowed per launch from a per-device pool, so
 * concurrent launches never share one, and returned after the host has read it.
 */
public final class ErrorFlags {
    /** The value a flag holds while nothing was reported. */
    public static final long NONE = -1L; // ~0 as unsigned: every position is smaller

    private final CudaDevice device;
    private final ConcurrentLinkedQueue<Flag> free = new ConcurrentLinkedQueue<>();

    ErrorFlags(CudaDevice device) {
        this.device = device;
    }

    /** A borrowed flag: reset on {@link #borrow}, read with {@link #read}, given back with {@link #close}. */
    public final class Flag implements AutoCloseable {
        private final DeviceBuffer word;
        private final MemorySegment host = Arena.ofAuto().allocate(8, 8);

        private Flag(DeviceBuffer word) {
            this.word = word;
        }

        /** The device address the kernel writes. */
        public long pointer() {
            return word.pointer();
        }

        /** Waits for {@code stream} and returns the reported position, or {@link #NONE}. */
        public long read(CudaStream stream) {
            device.makeCurrent();
            CudaDriver.memcpyDtoHAsync(host, word.pointer(), 8, stream.handle());
            stream.synchronize();
            return host.get(ValueLayout.JAVA_LONG, 0);
        }

        @Override
        public void close() {
            free.add(this);
        }
    }

    /** A flag set to {@link #NONE} on {@code stream}, ready for a launch on the same stream. */
    public Flag borrow(CudaStream stream) {
        Flag f = free.poll();
        if (f == null) {
            f = new Flag(device.allocate(8));
        }
        device.makeCurrent();
        CudaDriver.memsetD8Async(f.pointer(), (byte) 0xFF, 8, stream.handle());
        return f;
    }
}
