package io.tpkernels.testkit;

import io.tpkernels.shard.PipelinePartition;

/**
 * The inputs of a balanced pipeline split: {@code layers ≥ stages ≥ 1}.
 *
 * @param layers    {@code L}
 * @param stages    {@code P}
 * @param remainder where the {@code L % P} extra layers go
 */
public record PartitionSpec(int layers, int stages, PipelinePartition.Remainder remainder) {

    /**
     * {@link PipelinePartition#balanced} of this spec.
     *
     * @return the split
     */
    public PipelinePartition balanced() {
        return PipelinePartition.balanced(layers, stages, remainder);
    }
}
