package io.tpkernels.runtime;

import io.tpkernels.ffm.cuda.CudaDriver;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Copies host memory that is a mapped file ({@link MemorySegment#isMapped()}: a checkpoint's tensor views) to a
 * device through a bounded host buffer, so that the driver never reads the mapping itself.
 *
 * <p>Why: a file cut short while it is mapped (truncated by another process) leaves pages that no longer have
 * bytes behind them, and reading one raises SIGBUS. In a Java copy the JVM turns that into an
 * {@link InternalError} the file's reader can report (the checkpoint names the file); in the driver's own copy
 * it kills the process. So each chunk is copied by Java into the buffer, and the driver copies the buffer.
 *
 * <p>Each device has one buffer of at most {@link #CHUNK_BYTES}, grown on demand and reused; copies to one device
 * through it take turns.
 */
final class MappedStaging {
    /** The largest staging buffer, per device. */
    static final long CHUNK_BYTES = 64L << 20;

    private static final ConcurrentHashMap<CudaDevice, Buffer> BUFFERS = new ConcurrentHashMap<>();

    private MappedStaging() {
    }

    /** One device's buffer: allocated lazily, replaced by a larger one up to the limit (the old one is freed by GC). */
    private static final class Buffer {
        private MemorySegment segment = MemorySegment.NULL;

        MemorySegment atLeast(long bytes) {
            if (segment.byteSize() < bytes) {
                segment = Arena.ofAuto().allocate(bytes, HostMemory.ALIGNMENT);
            }
            return segment;
        }
    }

    /**
     * Copies all of {@code src} (mapped) to device pointer {@code dst} on {@code device}, made current by the
     * caller; returns when the device holds it. With a {@code stream} the copies are ordered on it (and waited
     * for, so that the buffer can be reused); without, they use the synchronous copy.
     *
     * @throws InternalError from the JVM when a page of {@code src} cannot be read (the file was cut short)
     */
    static void toDevice(CudaDevice device, long dst, MemorySegment src, CudaStream stream) {
        toDevice(device, dst, src, stream, CHUNK_BYTES);
    }

    /** {@link #toDevice(CudaDevice, long, MemorySegment, CudaStream)} in chunks of at most {@code chunkBytes}. */
    static void toDevice(CudaDevice device, long dst, MemorySegment src, CudaStream stream, long chunkBytes) {
        long bytes = src.byteSize();
        if (bytes == 0) {
            return;
        }
        long chunk = Math.min(bytes, Math.min(chunkBytes, CHUNK_BYTES));
        Buffer buffer = BUFFERS.computeIfAbsent(device, d -> new Buffer());
        synchronized (buffer) {
            MemorySegment staging = buffer.atLeast(chunk);
            for (long at = 0; at < bytes; at += chunk) {
                long n = Math.min(chunk, bytes - at);
                // The only read of the mapping: Java's copy, where a lost page is an InternalError, not a crash.
                MemorySegment.copy(src, at, staging, 0, n);
                if (stream == null) {
                    CudaDriver.memcpyHtoD(dst + at, staging, n);
                } else {
                    CudaDriver.memcpyHtoDAsync(dst + at, staging, n, stream.handle());
                    stream.synchronize();
                }
            }
        }
    }
}
