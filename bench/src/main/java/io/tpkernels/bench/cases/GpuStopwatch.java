package io.tpkernels.bench.cases;

import io.tpkernels.runtime.CudaEvent;
import io.tpkernels.runtime.CudaStream;
import io.tpkernels.runtime.SpinLead;

/**
 * GPU time of a run, from CUDA events recorded on the stream before and after it: what the device spent,
 * not what the host spent issuing it (which overlaps with earlier work in a real pipeline).
 *
 * <p>Each run waits for the one before it, so the stream is idle when the start event is recorded: a
 * {@link SpinLead} queued first keeps the GPU busy while the host issues the start event, the run and the end
 * event, so the events time the work back to back (a run whose host side takes longer than the lead, 200 µs,
 * would still count the rest).
 */
final class GpuStopwatch implements Stopwatch {
    private final CudaStream stream;
    private final CudaEvent start;
    private final CudaEvent end;

    GpuStopwatch(CudaStream stream) {
        this.stream = stream;
        this.start = CudaEvent.create(stream.device());
        this.end = CudaEvent.create(stream.device());
    }

    @Override
    public void start() {
        SpinLead.queue(stream);
        start.record(stream);
    }

    @Override
    public double stopMillis() {
        end.record(stream);
        end.synchronize();
        return end.millisSince(start);
    }

    @Override
    public void close() {
        start.close();
        end.close();
    }
}
