package io.tpkernels.testkit;

import io.tpkernels.shard.PipelinePartition;
import io.tpkernels.shard.ShardRange;
import io.tpkernels.shard.VocabShard;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.providers.ArbitraryProvider;
import net.jqwik.api.providers.TypeUsage;

/**
 * Lets {@code @ForAll} parameters of the testkit's types (and of {@link VocabShard}, {@link ShardRange},
 * {@link PipelinePartition}) be generated with no set-up: registered as a service, found by jqwik.
 */
public final class TpkArbitraryProvider implements ArbitraryProvider {

    private static final Map<Class<?>, Supplier<Arbitrary<?>>> BY_TYPE = Map.of(
            VocabShardSpec.class, TpkArbitraries::vocabShardSpecs,
            VocabShard.class, TpkArbitraries::vocabShards,
            EvenShardSpec.class, TpkArbitraries::evenShardSpecs,
            ShardRange.class, TpkArbitraries::shardRanges,
            PartitionSpec.class, TpkArbitraries::partitionSpecs,
            PipelinePartition.class, TpkArbitraries::partitions,
            ShardedLinearShape.class, TpkArbitraries::shardedLinearShapes);

    /** The provider jqwik's service loader makes. */
    public TpkArbitraryProvider() {
    }

    @Override
    public boolean canProvideFor(TypeUsage targetType) {
        return BY_TYPE.keySet().stream().anyMatch(targetType::isOfType);
    }

    @Override
    public Set<Arbitrary<?>> provideFor(TypeUsage targetType, SubtypeProvider subtypeProvider) {
        return BY_TYPE.entrySet().stream().filter(e -> targetType.isOfType(e.getKey()))
                .map(e -> e.getValue().get()).collect(java.util.stream.Collectors.toSet());
    }
}
