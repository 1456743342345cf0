package io.tpkernels.bench.cases;

/** Wall-clock time of a CPU run: the CPU operations return when they are done. */
final class CpuStopwatch implements Stopwatch {
    private long startNanos;

    @Override
    public void start() {
        startNanos = System.nanoTime();
    }

    @Override
    public double stopMillis() {
        return (System.nanoTime() - startNanos) / 1e6;
    }

    @Override
    public void close() {
    }
}
