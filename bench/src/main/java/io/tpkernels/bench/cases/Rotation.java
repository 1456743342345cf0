package io.tpkernels.bench.cases;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Input sets that successive runs cycle through, so that no run finds its inputs in a cache that earlier runs
 * left warm: as many sets as it takes for the bytes the runs touch, added up over one cycle, to exceed the
 * cache by a wide margin ({@link Bench#rotationBytes()}); at least {@link #MIN_SETS}, at most {@link #MAX_SETS}.
 * Kernels that read a large weight whole get a copy of it per set; kernels that touch little per run (a
 * decode-sized lookup) get many small sets, views into one allocation.
 */
final class Rotation<S> {
    static final int MIN_SETS = 2;
    static final int MAX_SETS = 1 << 14;

    private final List<S> sets;

    private Rotation(List<S> sets) {
        this.sets = sets;
    }

    /** How many sets of runs touching {@code bytesPerRun} each add up to {@code targetBytes}, within the bounds. */
    static int count(double bytesPerRun, long targetBytes) {
        long perRun = Math.max(1, (long) Math.ceil(bytesPerRun));
        return Math.clamp(Math.ceilDiv(targetBytes, perRun), MIN_SETS, MAX_SETS);
    }

    /** {@code count} sets made by {@code make} (set 0 first: later sets may copy it). */
    static <S> Rotation<S> of(int count, IntFunction<S> make) {
        List<S> sets = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            sets.add(make.apply(i));
        }
        return new Rotation<>(sets);
    }

    /** The set run {@code run} uses. */
    S get(int run) {
        return sets.get(run % sets.size());
    }

    int size() {
        return sets.size();
    }
}
