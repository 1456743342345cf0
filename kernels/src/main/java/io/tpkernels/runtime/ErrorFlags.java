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

    /**
     * A borrowed flag: reset on {@link #borrow}, read with {@link #read}, given back with {@link #close}. It can also
     * keep a copy of the input it checks ({@link #keep}), taken in stream order, so that a report read later names
     * the offending value even if the caller has freed or overwritten the input by then.
     */
    public final class Flag implements AutoCloseable {
        private final DeviceBuffer word;
        private final MemorySegment host = Arena.ofAuto().allocate(8, 8);
        private DeviceBuffer kept;
        private long keptBytes;

        private Flag(DeviceBuffer word) {
            this.word = word;
        }

        /**
         * Queues on {@code stream} a copy of {@code bytes} at device address {@code from}, for {@link #keptLong}.
         *
         * @param from the device address of the input to keep
         * @param bytes how many bytes to copy
         * @param stream the stream the checking kernel is queued on
         */
        public void keep(long from, long bytes, CudaStream stream) {
            if (kept == null || kept.byteSize() < bytes) {
                if (kept != null) {
                    kept.close();
                }
                kept = device.allocate(Math.max(bytes, 64));
            }
            keptBytes = bytes;
            device.makeCurrent();
            CudaDriver.memcpyDtoDAsync(kept.pointer(), from, bytes, stream.handle());
        }

        /**
         * The 8 bytes at {@code byteOffset} of what {@link #keep} copied, once the stream has passed the copy.
         *
         * @param byteOffset where the value is in the kept bytes
         * @param size 4 for an {@code int} (sign-extended), 8 for a {@code long}
         * @return the value
         * @throws IllegalStateException when nothing kept covers those bytes
         */
        public long keptLong(long byteOffset, int size) {
            if (kept == null || byteOffset + size > keptBytes) {
                throw new IllegalStateException("no kept input covers byte " + byteOffset);
            }
            device.makeCurrent();
            CudaDriver.memcpyDtoH(host, kept.pointer() + byteOffset, size);
            return size == 4 ? host.get(ValueLayout.JAVA_INT, 0) : host.get(ValueLayout.JAVA_LONG, 0);
        }

        /**
         * The device address the kernel writes.
         *
         * @return the flag's device address
         */
        public long pointer() {
            return word.pointer();
        }

        /**
         * Waits for {@code stream} and returns the reported position, or {@link #NONE}.
         *
         * @param stream the stream the reporting kernel was queued on
         * @return the smallest position a kernel reported, or {@link #NONE}
         * @throws io.tpkernels.ffm.cuda.CudaException when the stream reports an error
         */
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

    /**
     * A flag set to {@link #NONE} on {@code stream}, ready for a launch on the same stream.
     *
     * @param stream the stream the reset is queued on
     * @return the flag, to close once read
     */
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
