package io.tpkernels.cli.bench;

import io.tpkernels.gpu.CudaEvent;
import io.tpkernels.gpu.CudaKernel;
import io.tpkernels.gpu.CudaStream;
import io.tpkernels.gpu.KernelArgs;

/**
 * GPU time of a run, from CUDA events recorded on the stream before and after it: what the device spent,
 * not what the host spent issuing it (which overlaps with earlier work in a real pipeline).
 *
 * <p>Each run waits for the one before it, so the stream is idle when the start event is recorded, and the GPU
 * would reach it at once and then wait for the host to issue the run's launches (microseconds each, a tenth of a
 * decode GEMM). A spin kernel queued first ({@code timing.cu}) keeps the GPU busy for {@link #LEAD_NANOS} while
 * the host issues the start event, the run and the end event, so the events time the work back to back.
 */
final class GpuStopwatch implements Stopwatch {
    /** How long the GPU spins before the start event: far more than issuing a run's few launches takes. */
    static final long LEAD_NANOS = 200_000;

    private final CudaStream stream;
    private final CudaKernel spin;
    private final CudaEvent start;
    private final CudaEvent end;

    GpuStopwatch(CudaStream stream) {
        this.stream = stream;
        this.spin = stream.device().modules().kernel("timing", "tpk_spin");
        this.start = CudaEvent.create(stream.device());
        this.end = CudaEvent.create(stream.device());
    }

    @Override
    public void start() {
        spin.launch(stream, 1, 1, 0, KernelArgs.begin().i64(LEAD_NANOS));
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
