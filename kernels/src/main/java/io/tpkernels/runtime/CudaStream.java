package io.tpkernels.runtime;

import io.tpkernels.cuda.sources.KernelConstants;
import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.ffm.cuda.CudaDriverApi;
import io.tpkernels.ffm.cuda.CudaException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A CUDA stream: work on it runs in order. {@link #legacyDefault(CudaDevice)} is the device's NULL stream,
 * which synchronizes with every other blocking stream and is never destroyed.
 *
 * <p>Each stream has a {@link #scratch()}: device memory its kernels share from launch to launch.
 *
 * <p>A kernel that traps (a device-side wait past its bound, {@code KernelConstants.WAIT_BOUND_MS}) or faults fails
 * the next {@link #synchronize()} or launch; its error names the kernels queued on this stream object since its last
 * successful {@link #synchronize()} (the most recent of them).
 */
public final class CudaStream implements AutoCloseable {
    /** The size of {@link #scratch()}. */
    public static final long SCRATCH_BYTES = KernelConstants.STREAM_SCRATCH_BYTES;

    private final CudaDevice device;
    private final boolean owned;
    private volatile MemorySegment handle;
    /** Where launches on this stream marshal their parameters, one launch at a time; allocated on first launch. */
    private MemorySegment launchBlock;
    /** Guarded by this stream's lock. */
    private final QueuedKernels queued = new QueuedKernels();

    private CudaStream(CudaDevice device, MemorySegment handle, boolean owned) {
        this.device = device;
        this.handle = handle;
        this.owned = owned;
    }

    /**
     * A new stream that does not synchronize with the NULL stream.
     *
     * @param device the device
     * @return the stream, which the caller closes
     * @throws io.tpkernels.ffm.cuda.CudaException when the driver cannot create it
     */
    public static CudaStream create(CudaDevice device) {
        device.makeCurrent();
        return new CudaStream(device, CudaDriver.streamCreate(CudaDriverApi.CU_STREAM_NON_BLOCKING), true);
    }

    /**
     * A new stream that is ordered with the legacy default stream: work on it waits for earlier legacy-stream work
     * and the other way round, so a synchronous copy sees everything queued here before it.
     *
     * @param device the device
     * @return the stream, which the caller closes
     * @throws io.tpkernels.ffm.cuda.CudaException when the driver cannot create it
     */
    public static CudaStream createBlocking(CudaDevice device) {
        device.makeCurrent();
        return new CudaStream(device, CudaDriver.streamCreate(CudaDriverApi.CU_STREAM_DEFAULT), true);
    }

    /**
     * The device's legacy default (NULL) stream. Closing it does nothing.
     *
     * @param device the device
     * @return a new object over the NULL stream
     */
    public static CudaStream legacyDefault(CudaDevice device) {
        return new CudaStream(device, MemorySegment.NULL, false);
    }

    /**
     * The {@code CUstream} handle.
     *
     * @return the handle; {@code NULL} for the legacy default stream
     * @throws IllegalStateException when the stream was closed
     */
    public MemorySegment handle() {
        MemorySegment h = handle;
        if (h == null) {
            throw new IllegalStateException("stream on " + device + " was already closed");
        }
        return h;
    }

    /**
     * The device the stream belongs to.
     *
     * @return the device
     */
    public CudaDevice device() {
        return device;
    }

    /**
     * This stream's scratch: {@value #SCRATCH_BYTES} bytes of device memory that kernels queued on this stream may
     * use during a launch, and carry state in from one launch to the next (a counter a launch's blocks leave at 0).
     * Launches on one stream run one after another, so they share it safely; launches on different streams may run
     * at the same time, so each stream has its own, also each {@code CudaStream} object of the same handle (all the
     * {@link #legacyDefault} ones share one). Zero when first asked for (set in stream order: no launch on this
     * stream can see it otherwise); freed when the stream is closed, never for the legacy default stream.
     *
     * @return the scratch buffer, owned by the device (the caller must not close it)
     * @throws IllegalStateException when the stream was closed
     */
    public DeviceBuffer scratch() {
        return device.streamScratch(handle());
    }

    /**
     * Whether work queued on this stream is being captured into a CUDA graph (by another library) instead of run.
     *
     * @return {@code true} while a capture is in progress
     */
    public boolean isCapturing() {
        device.makeCurrent();
        return CudaDriver.streamIsCapturing(handle());
    }

    /**
     * Work queued here after this call waits for the work {@code event} recorded; the host does not wait.
     *
     * @param event an event of the same device
     * @throws IllegalStateException when the stream or the event was closed
     */
    public void waitFor(CudaEvent event) {
        device.makeCurrent();
        CudaDriver.streamWaitEvent(handle(), event.handle());
    }

    /**
     * Frees device memory in this stream's order ({@code cuMemFreeAsync}): after the work queued here before it. Once
     * the stream is closed, frees at once ({@code cuMemFree}, which waits for the device).
     */
    synchronized void free(long pointer) {
        device.makeCurrent();
        MemorySegment h = handle;
        if (h != null) {
            CudaDriver.memFreeAsync(pointer, h);
        } else {
            CudaDriver.memFree(pointer);
        }
    }

    /**
     * Queues {@code function}, the kernel {@code name}, with {@code args} on this stream. The parameters are marshalled
     * into this stream's own native block, held for the call (the driver copies them before it returns): threads that
     * share a stream take turns here, and no launch allocates native memory.
     */
    synchronized void launch(String name, MemorySegment function, int gridX, int gridY, int gridZ, int blockX,
                             int blockY, int blockZ, int sharedBytes, KernelArgs args) {
        if (launchBlock == null) {
            launchBlock = Arena.ofAuto().allocate(KernelArgs.BLOCK_BYTES, KernelArgs.BLOCK_ALIGNMENT);
        }
        MemorySegment params = args.marshal(launchBlock);
        device.makeCurrent();
        try {
            CudaDriver.launchKernel(function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, handle(),
                    params);
        } catch (CudaException e) {
            String call = "launch of " + name + ": " + e.call();
            throw QueuedKernels.isKernelFault(e.status())
                    ? new CudaException(e.status(), call, queued.describeFault(name))
                    : new CudaException(e.status(), call);
        }
        queued.add(name);
    }

    /** Allocates {@code bytes} in this stream's order ({@code cuMemAllocAsync}). */
    long allocate(long bytes) {
        device.makeCurrent();
        return CudaDriver.memAllocAsync(bytes, handle());
    }

    /**
     * Waits for all work queued on this stream; an asynchronous kernel error surfaces here, naming the kernels queued
     * since the last successful wait.
     *
     * @throws io.tpkernels.ffm.cuda.CudaException when the stream reports an error: a kernel fault or trap names the
     *     kernels queued since the last wait
     * @throws IllegalStateException when the stream was closed
     */
    public void synchronize() {
        long mark;
        synchronized (this) {
            mark = queued.mark();
        }
        device.makeCurrent();
        try {
            CudaDriver.streamSynchronize(handle());
        } catch (CudaException e) {
            if (!QueuedKernels.isKernelFault(e.status())) {
                throw e;
            }
            synchronized (this) {
                throw new CudaException(e.status(), e.call(), queued.describeFault(null));
            }
        }
        synchronized (this) {
            queued.waitedFor(mark);
        }
    }

    @Override
    public synchronized void close() {
        MemorySegment h = handle;
        if (h != null) {
            handle = null;
            if (owned) {
                device.makeCurrent();
                device.releaseStreamScratch(h); // cuMemFree waits for the stream's work, which may still use it
                CudaDriver.streamDestroy(h);
            }
        }
    }
}
