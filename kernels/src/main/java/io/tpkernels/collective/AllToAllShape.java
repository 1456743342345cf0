package io.tpkernels.collective;

/**
 * The shape of an all-to-all's result, in one place so that every {@link ProcessGroup} returns the same one: each
 * rank cuts its tensor into one slab per rank along the split dimension, and the slabs it receives are joined
 * along the concat dimension. The dimensions are checked before, on every rank alike, by {@link Agreement}.
 */
final class AllToAllShape {
    private AllToAllShape() {
    }

    /** {@code slab} (one rank's cut of the input) with dimension {@code concatDim} holding {@code ranks} slabs. */
    static long[] of(long[] slab, int concatDim, int ranks) {
        long[] result = slab.clone();
        result[concatDim] *= ranks;
        return result;
    }
}
