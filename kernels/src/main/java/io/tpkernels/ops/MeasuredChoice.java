package io.tpkernels.ops;

import io.tpkernels.runtime.CudaEvent;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.SpinLead;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A choice between the project's own kernel and an alternative (cuBLAS), made once per shape by timing both on the
 * GPU: the alternative is taken only where the own kernel is more than {@link #MARGIN} times slower, so the
 * hand-written kernel stays the default wherever it is within 10%.
 *
 * <p>The first call of a shape runs each side {@link #WARMUPS} + {@link #RUNS} times on the caller's stream, timed
 * with events behind a {@link SpinLead} (so it waits for the GPU, once); later calls of that shape only look the
 * answer up. One thread times at a time in a process: ranks sharing a GPU would otherwise time each other's kernels;
 * the others wait and then find the answer. The answer comes from timings, so it may differ from one run of a
 * program to the next (and with it the last bits of the results), and between processes.
 */
final class MeasuredChoice<K> {
    /** How much slower the own kernel may be before the alternative is taken. */
    static final double MARGIN = 1.10;
    static final int WARMUPS = 1;
    static final int RUNS = 5;

    private final Map<K, Boolean> alternativeWins = new ConcurrentHashMap<>();
    private final Object timing = new Object();

    /** Whether the alternative is to run for {@code key}, timing both on {@code stream} if this key is new. */
    boolean useAlternative(K key, ExecutionContext ctx, Runnable own, Runnable alternative) {
        Boolean known = alternativeWins.get(key);
        if (known != null) {
            return known;
        }
        synchronized (timing) {
            known = alternativeWins.get(key);
            if (known != null) {
                return known;
            }
            boolean wins = alternativeIsFaster(medianMillis(own, ctx), medianMillis(alternative, ctx));
            alternativeWins.put(key, wins);
            return wins;
        }
    }

    /** The answer for {@code key} if it has been timed, without timing anything (for a stream being captured). */
    Optional<Boolean> known(K key) {
        return Optional.ofNullable(alternativeWins.get(key));
    }

    /** The rule: the alternative only where the own kernel takes more than {@link #MARGIN} times its time. */
    static boolean alternativeIsFaster(double ownMillis, double alternativeMillis) {
        return ownMillis > MARGIN * alternativeMillis;
    }

    /** How many shapes have been decided. */
    int decided() {
        return alternativeWins.size();
    }

    private static double medianMillis(Runnable run, ExecutionContext ctx) {
        for (int i = 0; i < WARMUPS; i++) {
            run.run();
        }
        double[] ms = new double[RUNS];
        try (CudaEvent start = CudaEvent.create(ctx.cudaDevice()); CudaEvent end = CudaEvent.create(ctx.cudaDevice())) {
            for (int i = 0; i < RUNS; i++) {
                SpinLead.queue(ctx.stream());
                start.record(ctx.stream());
                run.run();
                end.record(ctx.stream());
                end.synchronize();
                ms[i] = end.millisSince(start);
            }
        }
        Arrays.sort(ms);
        return ms[RUNS / 2];
    }
}
