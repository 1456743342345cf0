package io.tpkernels.collective;

/**
 * How {@link ProcessGroup#allReduce} and {@link ProcessGroup#reduceScatter} combine the ranks' values. The rules
 * below are the in-process group's, on the CPU and on a shared GPU alike, bit for bit ({@code Reductions}); an
 * {@link NcclGroup} reduces with NCCL's kernels, whose order and NaN and signed-zero handling are NCCL's.
 */
public enum ReduceOp {
    /**
     * The sum, in rank order 0..n−1: floats as {@code ((x0 + x1) + x2) + …} in f32 arithmetic (each step rounded to
     * f32), rounded to the dtype once at the end; integers in 64 bits.
     */
    SUM,
    /**
     * The maximum, as {@link Math#max}: {@code +0} is above {@code -0}, and a NaN anywhere makes the result NaN.
     * A NaN result of either op is the dtype's canonical quiet NaN (sign clear, quiet bit set, no payload).
     */
    MAX
}
