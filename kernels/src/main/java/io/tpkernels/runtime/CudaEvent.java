package io.tpkernels.runtime;

import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.ffm.cuda.CudaDriverApi;
import java.lang.foreign.MemorySegment;

/** A CUDA event with timing: record it on a stream, wait for it, measure the time between two. */
public final class CudaEvent implements AutoCloseable {
    private final CudaDevice device;
    private volatile MemorySegment handle;

    private CudaEvent(CudaDevice device, MemorySegment handle) {
        this.device = device;
        this.handle = handle;
    }

    /**
     * A new timing event on {@code device}.
     *
     * @param device the device
     * @return the event, which the caller closes
     */
    public static CudaEvent create(CudaDevice device) {
        device.makeCurrent();
        return new CudaEvent(device, CudaDriver.eventCreate(CudaDriverApi.CU_EVENT_DEFAULT));
    }

    /**
     * A new event without timing (cheaper to record and wait for): for ordering streams.
     *
     * @param device the device
     * @return the event, which the caller closes; it cannot measure time
     */
    public static CudaEvent createUntimed(CudaDevice device) {
        device.makeCurrent();
        return new CudaEvent(device, CudaDriver.eventCreate(CudaDriverApi.CU_EVENT_DISABLE_TIMING));
    }

    MemorySegment handle() {
        MemorySegment h = handle;
        if (h == null) {
            throw new IllegalStateException("event on " + device + " was already closed");
        }
        return h;
    }

    /**
     * Records the event at the current end of {@code stream}.
     *
     * @param stream a stream of the event's device
     * @throws IllegalStateException when the event or the stream was closed
     */
    public void record(CudaStream stream) {
        device.makeCurrent();
        CudaDriver.eventRecord(handle(), stream.handle());
    }

    /** Waits until the work before the event is done. */
    public void synchronize() {
        device.makeCurrent();
        CudaDriver.eventSynchronize(handle());
    }

    /**
     * Milliseconds from {@code start} to this event; both must have completed.
     *
     * @param start an event recorded earlier, with timing
     * @return the elapsed time, with the driver's resolution of about half a microsecond
     * @throws io.tpkernels.ffm.cuda.CudaException when either event has not completed or was created without timing
     */
    public float millisSince(CudaEvent start) {
        device.makeCurrent();
        return CudaDriver.eventElapsedTime(start.handle(), handle());
    }

    @Override
    public synchronized void close() {
        MemorySegment h = handle;
        if (h != null) {
            handle = null;
            device.makeCurrent();
            CudaDriver.eventDestroy(h);
        }
    }
}
