package io.tpkernels.collective;

/** How {@link ProcessGroup#allReduce} and {@link ProcessGroup#reduceScatter} combine the ranks' values. */
public enum ReduceOp {
    /** The sum, in rank order 0..n−1 (floats in f32, rounded to the dtype once). */
    SUM,
    /** The maximum; a NaN anywhere makes the result NaN. */
    MAX
}
