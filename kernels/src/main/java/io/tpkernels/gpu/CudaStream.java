package io.tpkernels.gpu;

import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.ffm.cuda.CudaDriverApi;
import java.lang.foreign.MemorySegment;

/**
 * A CUDA stream: work on it runs in order. {@link #legacyDefault(CudaDevice)} is the device's NULL stream,
 * which synchronizes with every other blocking stream and is never destroyed.
 */
public final class CudaStream implements AutoCloseable {
    private final CudaDevice device;
    private final boolean owned;
    private volatile MemorySegment handle;

    private CudaStream(CudaDevice device, MemorySegment handle, boolean owned) {
        this.device = device;
        this.handle = handle;
        this.owned = owned;
    }

    /** A new stream that does not synchronize with the NULL stream. */
    public static CudaStream create(CudaDevice device) {
        device.makeCurrent();
        return new CudaStream(device, CudaDriver.streamCreate(CudaDriverApi.CU_STREAM_NON_BLOCKING), true);
    }

    /** The device's legacy default (NULL) stream. Closing it does nothing. */
    public static CudaStream legacyDefault(CudaDevice device) {
        return new CudaStream(device, MemorySegment.NULL, false);
    }

    /** The {@code CUstream} handle. */
    public MemorySegment handle() {
        MemorySegment h = handle;
        if (h == null) {
            throw new IllegalStateException("stream on " + device + " was already closed");
        }
        return h;
    }

    public CudaDevice device() {
        return device;
    }

    /** Waits for all work queued on this stream; an asynchronous kernel error surfaces here. */
    public void synchronize() {
        device.makeCurrent();
        CudaDriver.streamSynchronize(handle());
    }

    @Override
    public synchronized void close() {
        MemorySegment h = handle;
        if (h != null) {
            handle = null;
            if (owned) {
                device.makeCurrent();
                CudaDriver.streamDestroy(h);
            }
        }
    }
}
