/**
 * The optimizer of LoRA fine-tuning: trained tensors as {@link io.tpkernels.train.Parameter}s (F32 master value and
 * gradient, and their {@link io.tpkernels.train.Placement} across the tensor-parallel group),
 * {@link io.tpkernels.train.AdamW} and global-norm {@link io.tpkernels.train.GradClipping}, on the CPU and on a GPU.
 * The arithmetic is the contract's,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#17-adamw-and-gradient-clipping">section 17</a>.
 */
package io.tpkernels.train;
