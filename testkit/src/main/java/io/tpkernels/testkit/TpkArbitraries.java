package io.tpkernels.testkit;

import io.tpkernels.shard.PipelinePartition;
import io.tpkernels.shard.ShardRange;
import io.tpkernels.shard.VocabShard;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.RandomDistribution;

/**
 * jqwik generators for tpkernels' shard and partition inputs. Every value satisfies the rules the API
 * enforces (so no generated case is an argument error), sizes are biased toward small values where edge
 * cases live (tiny vocabularies on many ranks, shards with no real row), and everything is built from
 * shrinkable integers, so a failing property shrinks to a small counterexample.
 */
public final class TpkArbitraries {
    /** Largest vocabulary generated: above every real tokenizer's 2^18 or so. */
    public static final long MAX_VOCAB = 1L << 20;
    /**
     * Largest tensor-parallel size generated (the contract,
     * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#2-vocabulary-padding">section 2</a>,
     * states the invariants up to 1024).
     */
    public static final int MAX_TP = 1024;
    /** Largest padding multiple generated. */
    public static final int MAX_MULTIPLE = 512;

    private TpkArbitraries() {
    }

    private static Arbitrary<Integer> smallInts(int min, int max) {
        return Arbitraries.integers().between(min, max).withDistribution(RandomDistribution.biased());
    }

    private static Arbitrary<Long> smallLongs(long min, long max) {
        return Arbitraries.longs().between(min, max).withDistribution(RandomDistribution.biased());
    }

    /**
     * {@code V ∈ [1, 2^20]}, {@code tp ∈ [1, 1024]}, {@code m ∈ [1, 512]}.
     *
     * @return the generator
     */
    public static Arbitrary<VocabShardSpec> vocabShardSpecs() {
        return Combinators.combine(smallLongs(1, MAX_VOCAB), smallInts(1, MAX_TP), smallInts(1, MAX_MULTIPLE))
                .as(VocabShardSpec::new);
    }

    /**
     * One rank's shard of a {@link #vocabShardSpecs()} vocabulary.
     *
     * @return the generator
     */
    public static Arbitrary<VocabShard> vocabShards() {
        return vocabShardSpecs().flatMap(spec -> smallInts(0, spec.tpSize() - 1).map(spec::shard));
    }

    /**
     * {@code parts ∈ [1, 1024]} and {@code size = parts·q} with {@code q ∈ [0, 65536]}.
     *
     * @return the generator
     */
    public static Arbitrary<EvenShardSpec> evenShardSpecs() {
        return Combinators.combine(smallInts(1, MAX_TP), smallLongs(0, 1 << 16))
                .as((parts, quotient) -> new EvenShardSpec(parts * quotient, parts));
    }

    /**
     * One part of an {@link #evenShardSpecs()} dimension.
     *
     * @return the generator
     */
    public static Arbitrary<ShardRange> shardRanges() {
        return evenShardSpecs().flatMap(spec -> smallInts(0, spec.parts() - 1).map(spec::range));
    }

    /**
     * {@code P ∈ [1, 64]}, {@code L ∈ [P, P + 256]}, either remainder rule.
     *
     * @return the generator
     */
    public static Arbitrary<PartitionSpec> partitionSpecs() {
        return Combinators.combine(smallInts(1, 64), smallInts(0, 256),
                        Arbitraries.of(PipelinePartition.Remainder.class))
                .as((stages, extra, remainder) -> new PartitionSpec(stages + extra, stages, remainder));
    }

    /**
     * Any split: 1 to 32 stages of 1 to 16 layers each, not only balanced ones.
     *
     * @return the generator
     */
    public static Arbitrary<PipelinePartition> partitions() {
        return smallInts(1, 16).array(int[].class).ofMinSize(1).ofMaxSize(32).map(PipelinePartition::of);
    }

    /**
     * Linear-layer shapes for {@code tp ∈ [1, 8]}: {@code T ∈ [1, 64]}, {@code K, N} multiples of tp up to 64·tp.
     *
     * @return the generator
     */
    public static Arbitrary<ShardedLinearShape> shardedLinearShapes() {
        return smallInts(1, 8).flatMap(tp -> Combinators.combine(smallLongs(1, 64), smallLongs(1, 64), smallLongs(1, 64))
                .as((tokens, k, n) -> new ShardedLinearShape(tp, tokens, k * tp, n * tp)));
    }
}
