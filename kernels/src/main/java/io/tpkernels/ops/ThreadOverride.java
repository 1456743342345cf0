package io.tpkernels.ops;

import java.util.function.Supplier;

/**
 * A per-thread override of a JVM-wide setting (a system property), set for the length of one call and undone after
 * it, nesting: how a benchmark or a test runs the same shape through each kernel variant ({@link HopperGemm},
 * {@link LoraShrink}) without touching other threads.
 */
final class ThreadOverride<T> {
    private final ThreadLocal<T> value = new ThreadLocal<>();

    /** This thread's override now, or {@code null} for none. */
    T get() {
        return value.get();
    }

    /** Runs {@code work} on this thread with {@code override} in force, then restores what was before. */
    <R> R during(T override, Supplier<R> work) {
        T before = value.get();
        value.set(override);
        try {
            return work.get();
        } finally {
            if (before == null) {
                value.remove();
            } else {
                value.set(before);
            }
        }
    }
}
