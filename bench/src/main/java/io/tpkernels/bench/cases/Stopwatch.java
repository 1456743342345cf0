package io.tpkernels.bench.cases;

/** Times one run: {@link #start()} before it is issued, {@link #stopMillis()} after, which waits for it to finish. */
interface Stopwatch extends AutoCloseable {
    void start();

    /** Milliseconds since {@link #start()}, once the work issued since then has finished. */
    double stopMillis();

    @Override
    void close();
}
