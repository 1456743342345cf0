/**
 * The layers models are built from, each one rank's part of a tensor-parallel layer: vocab- and hidden-parallel
 * embeddings, column- and row-parallel linear layers with their LoRA (and DoRA) forms, and the vocab-padded LM head.
 * A rank's layers share a {@link io.tpkernels.layers.RankContext}: its tensor-parallel group, its execution context
 * and the precision of its weights and activations.
 *
 * <p>A layer loads only its rank's shard from a {@link io.tpkernels.layers.weights.WeightSource} and owns it until
 * {@code close()}; using a closed layer is an {@link java.lang.IllegalStateException}. A forward checks its input
 * (shape, precision, device) before any launch or collective, issues the layer's one collective, and returns a tensor
 * the caller owns; on a GPU its work is queued on the rank's stream. What each layer computes is in the contract,
 * sections <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#4-embedding">4</a>,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#5-lm-head-the-vocab-padded-gemm">5</a>,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#7-parallel-linear-layers">7</a>,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#8-lora-under-tensor-parallelism">8</a> and
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#10-dora">10</a>; their backwards in
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#p1-backward-lora-on-a-frozen-base">P1</a>.
 */
package io.tpkernels.layers;
