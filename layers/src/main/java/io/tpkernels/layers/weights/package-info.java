/**
 * Where layers find their weights and how a rank copies its shard of one: a
 * {@link io.tpkernels.layers.weights.WeightSource} hands out zero-copy host views of full tensors by name (a mapped
 * checkpoint, or tensors in memory), and {@link io.tpkernels.layers.weights.ShardLoader} checks a tensor's shape and
 * dtype and copies only the rank's part to its device, in the layer's dtype. A tensor that is missing, of another shape
 * or dtype, or unreadable is a {@link io.tpkernels.layers.weights.WeightException} naming the source and the tensor
 * (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#14-safetensors">section 14</a>; adapter
 * tensors:
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#loading-adapter-tensors">section 8</a>).
 */
package io.tpkernels.layers.weights;
