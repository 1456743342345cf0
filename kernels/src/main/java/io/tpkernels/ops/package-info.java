/**
 * The kernel operations: embedding lookups, the linear, LoRA and LM-head GEMMs, the vocab-parallel argmax and
 * cross-entropy, casts, element-wise steps and the backward operations of fine-tuning. Each has one entry point per
 * form (into a given output, or allocating one on the context) for both backends: the CPU implementation, which is the
 * reference, and CUDA kernels, which agree with it within a few roundings of the dtype.
 *
 * <p>Every entry point checks shapes, dtypes and devices before any launch and throws an
 * {@link java.lang.IllegalArgumentException} naming the operation and the values; then, on a GPU, it queues its work on
 * the context's stream without waiting. GEMMs accumulate in f32 and round once, to the output's dtype. What each
 * operation computes is written down in
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md">the contract</a>; its
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#1-notation-and-numerics">section 1</a>
 * gives the notation and the numerics.
 */
package io.tpkernels.ops;
