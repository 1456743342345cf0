package io.tpkernels.cli.bench;

import io.tpkernels.gpu.CudaEvent;
import io.tpkernels.gpu.CudaStream;

/**
 * GPU time of a run, from CUDA events recorded on the stream before and after it: what the device spent,
 * not what the host spent issuing it (which overlaps with earlier work in a real pipeline).
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
