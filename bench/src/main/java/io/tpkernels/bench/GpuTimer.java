package io.tpkernels.bench;

import io.tpkernels.gpu.CudaDevice;
import io.tpkernels.gpu.CudaEvent;
import io.tpkernels.gpu.CudaStream;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Times GPU work with events: warm-up runs, then the median of {@code runs} timed runs. The work gets the run
 * index, so it can rotate through several input/output buffers and keep them out of L2 between runs.
 */
final class GpuTimer implements AutoCloseable {
    private final CudaStream stream;
    private final CudaEvent start;
    private final CudaEvent end;

    GpuTimer(CudaDevice device, CudaStream stream) {
        this.stream = stream;
        this.start = CudaEvent.create(device);
        this.end = CudaEvent.create(device);
    }

    /** Median milliseconds of {@code runs} runs of {@code work} after {@code warmup} untimed ones. */
    double medianMillis(int warmup, int runs, IntConsumer work) {
        for (int i = 0; i < warmup; i++) {
            work.accept(i);
        }
        stream.synchronize();
        double[] ms = new double[runs];
        for (int i = 0; i < runs; i++) {
            start.record(stream);
            work.accept(warmup + i);
            end.record(stream);
            end.synchronize();
            ms[i] = end.millisSince(start);
        }
        Arrays.sort(ms);
        return runs % 2 == 1 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2;
    }

    @Override
    public void close() {
        start.close();
        end.close();
    }
}
