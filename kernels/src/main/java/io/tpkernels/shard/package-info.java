/**
 * How tensors and layers are split across ranks: the padded vocabulary shard of a tensor-parallel rank
 * ({@link io.tpkernels.shard.VocabShard}, the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#2-vocabulary-padding">section 2</a>), the
 * even split of other dimensions ({@link io.tpkernels.shard.ShardRange},
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#3-even-sharding-of-other-dimensions">section 3</a>)
 * and the split of decoder layers over pipeline stages ({@link io.tpkernels.shard.PipelinePartition},
 * {@link io.tpkernels.shard.MemoryBalancedPartition},
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#11-pipeline-partition-and-the-parallel-plan">section 11</a>).
 * Plain immutable values; arguments outside the rules are an {@link java.lang.IllegalArgumentException} naming them.
 */
package io.tpkernels.shard;
