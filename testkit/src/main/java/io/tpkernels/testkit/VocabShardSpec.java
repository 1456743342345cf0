package io.tpkernels.testkit;

import io.tpkernels.shard.VocabShard;
import java.util.List;
import java.util.stream.IntStream;

/**
 * A padded vocabulary split over {@code tpSize} ranks: every rank's {@link VocabShard}.
 *
 * @param vocabSize {@code V ≥ 1}
 * @param tpSize    {@code tp ≥ 1}
 * @param multiple  {@code m ≥ 1}
 */
public record VocabShardSpec(long vocabSize, int tpSize, int multiple) {

    /**
     * The shard of {@code rank}.
     *
     * @param rank the rank, in {@code [0, tp)}
     * @return its shard
     * @throws IllegalArgumentException when {@code rank} is out of range
     */
    public VocabShard shard(int rank) {
        return VocabShard.of(vocabSize, tpSize, rank, multiple);
    }

    /**
     * The shards of ranks {@code 0..tp−1}, in order.
     *
     * @return the {@code tp} shards
     */
    public List<VocabShard> shards() {
        return IntStream.range(0, tpSize).mapToObj(this::shard).toList();
    }
}
