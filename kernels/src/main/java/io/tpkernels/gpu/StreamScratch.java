package io.tpkernels.gpu;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Small device scratch buffers (LoRA's {@code [T, R]} intermediate, say), one per stream, reused by every launch
 * on that stream: work on one stream runs in order, so a later launch cannot overwrite what an earlier one
 * still reads. A buffer grows when a larger one is asked for ({@code cuMemFree} of the old one waits for the
 * device); it is never shrunk.
 */
public final class StreamScratch {
    private static final ConcurrentHashMap<Key, DeviceBuffer> BUFFERS = new ConcurrentHashMap<>();

    private record Key(CudaDevice device, long stream) {
    }

    private StreamScratch() {
    }

    /** A buffer of at least {@code bytes} for work queued on {@code stream}. */
    public static DeviceBuffer forStream(CudaStream stream, long bytes) {
        Key key = new Key(stream.device(), stream.handle().address());
        return BUFFERS.compute(key, (k, old) -> {
            if (old != null && old.isOpen() && old.byteSize() >= bytes) {
                return old;
            }
            if (old != null) {
                old.close();
            }
            return stream.device().allocate(Math.max(bytes, 256));
        });
    }
}
