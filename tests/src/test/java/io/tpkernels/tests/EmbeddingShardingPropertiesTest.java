package io.tpkernels.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tpkernels.ops.EmbeddingLookup;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.ShardRange;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.testkit.VocabShardSpec;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * docs/contract.md section 4 end to end on the CPU: the vocab-parallel lookups of every rank, summed in rank
 * order, equal the unsharded lookup bit for bit; the hidden-parallel lookups, side by side, equal it too.
 */
class EmbeddingShardingPropertiesTest {

    private static float[] randomNonZero(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            do {
                v[i] = (float) r.nextGaussian();
            } while (v[i] == 0f);
        }
        return v;
    }

    @Property(tries = 80)
    void vocabParallelRanksSumToTheFullLookup(@ForAll @IntRange(min = 1, max = 2000) int vocab,
                                               @ForAll @IntRange(min = 1, max = 8) int tp,
                                               @ForAll @IntRange(min = 1, max = 128) int multiple,
                                               @ForAll @IntRange(min = 1, max = 40) int tokens,
                                               @ForAll @IntRange(min = 1, max = 19) int h,
                                               @ForAll @IntRange(min = 0, max = 2) int dtypeIndex, @ForAll long seed) {
        DType dtype = new DType[] {DType.F32, DType.F16, DType.BF16}[dtypeIndex];
        VocabShardSpec spec = new VocabShardSpec(vocab, tp, multiple);
        SplittableRandom r = new SplittableRandom(seed);
        long[] ids = r.longs(tokens, 0, vocab).toArray();
        try (Tensor full = Tensor.ofFloats(dtype, randomNonZero(r, vocab * h), vocab, h);
             Tensor idT = Tensor.ofLongs(DType.I64, ids, tokens);
             Tensor expected = EmbeddingLookup.masked(ExecutionContext.defaultFor(idT.device()), idT, full, 0, vocab, vocab)) {
            float[] sum = new float[tokens * h];
            for (VocabShard shard : spec.shards()) {
                // The rank loads only its valid rows: a view of the full table, no copy.
                Tensor rows = full.rows(Math.min(shard.start(), vocab), Math.min(shard.start() + shard.validRows(), vocab));
                try (Tensor part = EmbeddingLookup.vocabParallel(ExecutionContext.defaultFor(idT.device()), idT, rows, shard)) {
                    float[] p = part.toFloatArray();
                    for (int i = 0; i < sum.length; i++) {
                        sum[i] += p[i];
                    }
                }
            }
            float[] e = expected.toFloatArray();
            for (int i = 0; i < e.length; i++) {
                assertEquals(Float.floatToIntBits(e[i]), Float.floatToIntBits(sum[i]), "element " + i + " of " + spec);
            }
        }
    }

    @Property(tries = 60)
    void hiddenParallelSlicesSideBySideEqualTheFullLookup(@ForAll @IntRange(min = 1, max = 8) int tp,
                                                          @ForAll @IntRange(min = 1, max = 6) int columnsPerRank,
                                                          @ForAll @IntRange(min = 1, max = 300) int vocab,
                                                          @ForAll @IntRange(min = 1, max = 30) int tokens, @ForAll long seed) {
        int h = tp * columnsPerRank;
        SplittableRandom r = new SplittableRandom(seed);
        float[] table = randomNonZero(r, vocab * h);
        long[] ids = r.longs(tokens, 0, vocab).toArray();
        try (Tensor idT = Tensor.ofLongs(DType.I32, ids, tokens)) {
            for (int rank = 0; rank < tp; rank++) {
                ShardRange cols = ShardRange.of(h, tp, rank);
                float[] slice = new float[vocab * columnsPerRank];
                for (int v = 0; v < vocab; v++) {
                    System.arraycopy(table, (int) (v * h + cols.start()), slice, v * columnsPerRank, columnsPerRank);
                }
                try (Tensor w = Tensor.ofFloats(DType.F32, slice, vocab, columnsPerRank);
                     Tensor out = EmbeddingLookup.hiddenParallel(ExecutionContext.defaultFor(idT.device()), idT, w)) {
                    float[] o = out.toFloatArray();
                    for (int t = 0; t < tokens; t++) {
                        for (int c = 0; c < columnsPerRank; c++) {
                            assertEquals(table[(int) (ids[t] * h + cols.start() + c)], o[t * columnsPerRank + c], 0f);
                        }
                    }
                }
            }
        }
    }
}
