package io.tpkernels.bench.cases;

/** What is timed: run {@code i} of a measurement, which picks its input set by {@code i}. */
@FunctionalInterface
interface Work {
    /** Issues run {@code i} (on a GPU, queues it on the bench's stream). */
    void run(int i);

    /**
     * Called after run {@code i} has finished and been timed: reads what the run reports back (a bad-id flag),
     * outside the timed window, so that the next run reuses it instead of allocating a new one.
     */
    default void settle(int i) {
    }
}
