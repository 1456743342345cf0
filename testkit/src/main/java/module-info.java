/**
 * jqwik generators for tpkernels' shard and partition specs. With this module on the test path,
 * {@code @ForAll VocabShard shard}, {@code @ForAll ShardRange range}, {@code @ForAll PipelinePartition p} and
 * the spec records here work without further set-up; {@link io.tpkernels.testkit.TpkArbitraries} gives the
 * same generators for combining.
 */
module io.tpkernels.testkit {
    requires transitive io.tpkernels.kernels;
    requires transitive net.jqwik.api;

    exports io.tpkernels.testkit;

    provides net.jqwik.api.providers.ArbitraryProvider with io.tpkernels.testkit.TpkArbitraryProvider;
}
