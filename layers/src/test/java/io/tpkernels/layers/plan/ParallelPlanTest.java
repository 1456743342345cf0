package io.tpkernels.layers.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.plan.ParallelPlan.Balance;
import io.tpkernels.layers.plan.ParallelPlan.Options;
import io.tpkernels.runtime.DType;
import io.tpkernels.shard.PipelinePartition.Remainder;
import org.junit.jupiter.api.Test;

class ParallelPlanTest {

    /** Meta-Llama-3-8B's config.json (the published values). */
    static final ModelConfig LLAMA3_8B = new ModelConfig(128256, 4096, 14336, 32, 32, 8, 128, false);

    private static Options opts(int tp, int pp) {
        return new Options(tp, pp, 64, Remainder.FIRST, null, Balance.LAYERS, DType.BF16, 0);
    }

    private static long total(ParallelPlan p) {
        return p.stages().stream().mapToLong(ParallelPlan.Stage::paramsPerRank).sum();
    }

    @Test
    void llama3With8BParametersCountsExactly() {
        // 8,030,261,248 is the parameter count Hugging Face reports for Meta-Llama-3-8B.
        assertEquals(8_030_261_248L, total(ParallelPlan.of(LLAMA3_8B, opts(1, 1))));
        assertEquals(8_030_261_248L, total(ParallelPlan.of(LLAMA3_8B, opts(1, 4))), "pp moves, never adds");
    }

    @Test
    void tensorParallelRanksSplitEverythingButTheNorms() {
        ParallelPlan one = ParallelPlan.of(LLAMA3_8B, opts(1, 1));
        ParallelPlan eight = ParallelPlan.of(LLAMA3_8B, opts(8, 1));
        long norms = 2 * 4096;
        assertEquals(one.layerParamsPerRank() + 7 * norms, 8 * eight.layerParamsPerRank());
        // 128256 rows over 8 ranks padded to 128512: rank 0 holds 16064 real rows of the embedding.
        assertEquals(16064L * 4096, eight.embeddingParamsPerRank());
        assertEquals(15808, eight.vocabShards().get(7).validRows());
    }

    @Test
    void aTiedHeadSharesTheEmbeddingOnlyOnTheSameStage() {
        ModelConfig tied = new ModelConfig(1000, 64, 128, 4, 0, 0, 0, true);
        assertEquals(0, ParallelPlan.of(tied, opts(2, 1)).lmHeadParamsPerRank(), "MLP-only: no final norm either");
        assertEquals(512L * 64, ParallelPlan.of(tied, opts(2, 2)).lmHeadParamsPerRank());
    }

    @Test
    void anMlpOnlyModelHasOnlyGateUpAndDown() {
        ModelConfig demo = new ModelConfig(1000, 64, 128, 4, 0, 0, 0, false);
        assertEquals(3L * 64 * 128 / 4, ParallelPlan.of(demo, opts(4, 1)).layerParamsPerRank());
    }

    @Test
    void loraAddsReplicatedAndShardedFactorsPerSection6() {
        ModelConfig demo = new ModelConfig(1000, 64, 128, 4, 0, 0, 0, false);
        int r = 8;
        int tp = 4;
        // gate/up column-parallel: A [8, 64] whole, B [128/4, 8]; down row-parallel: A [8, 128/4], B [64, 8] whole.
        long gateUp = 2 * (8 * 64 + 128 / 4 * 8);
        long down = 8 * 128 / 4 + 64 * 8;
        Options withLora = new Options(tp, 1, 64, Remainder.FIRST, null, Balance.LAYERS, DType.BF16, r);
        assertEquals(3L * 64 * 128 / 4 + gateUp + down, ParallelPlan.of(demo, withLora).layerParamsPerRank());
    }

    @Test
    void memoryBalanceNeverMakesTheLargestStageLarger() {
        Options mem = new Options(8, 3, 64, Remainder.FIRST, null, Balance.MEMORY, DType.BF16, 0);
        ParallelPlan p = ParallelPlan.of(LLAMA3_8B, mem);
        assertTrue(p.maxStageBytes() < p.layerBalancedMaxStageBytes(), "3 stages of 32 layers: the embedding stage sheds");
        assertEquals("10,12,10", p.partition().toString());
        assertEquals(2L * p.stages().get(0).paramsPerRank(), p.stages().get(0).bytesPerRank(), "BF16: 2 bytes");
    }

    @Test
    void kvHeadsFewerThanTpAreReplicatedOnePerRank() {
        // 8 KV heads on 16 ranks: every rank holds one whole KV head (two ranks per head), q/o/MLP split 16 ways.
        long h = 4096;
        long q = 32 * 128;
        long expected = (q * h + h * q + 3 * 14336 * h) / 16 + 2 * 128 * h + 2 * h;
        assertEquals(expected, ParallelPlan.of(LLAMA3_8B, opts(16, 1)).layerParamsPerRank());
        // With as many ranks as KV heads, each holds exactly one head too: the same k and v per rank.
        long atEight = (q * h + h * q + 3 * 14336 * h) / 8 + 2 * 128 * h + 2 * h;
        assertEquals(atEight, ParallelPlan.of(LLAMA3_8B, opts(8, 1)).layerParamsPerRank());
    }

    @Test
    void tpMustDivideTheShardedDimensionsAndHeads() {
        var e = assertThrows(IllegalArgumentException.class, () -> ParallelPlan.of(LLAMA3_8B, opts(3, 1)));
        assertEquals("tp 3 does not divide hidden_size 4096", e.getMessage());
        ModelConfig sixKvHeads = new ModelConfig(1000, 3072, 8192, 2, 24, 6, 128, false);
        var heads = assertThrows(IllegalArgumentException.class, () -> ParallelPlan.of(sixKvHeads, opts(4, 1)));
        assertEquals("tp 4 does not divide num_key_value_heads 6", heads.getMessage());
        ModelConfig threeKvHeads = new ModelConfig(1000, 1536, 8192, 2, 12, 3, 128, false);
        var replicas = assertThrows(IllegalArgumentException.class, () -> ParallelPlan.of(threeKvHeads, opts(4, 1)));
        assertEquals("tp 4 is not a multiple of num_key_value_heads 3 (fewer KV heads than ranks are replicated, "
                + "one per rank)", replicas.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ParallelPlan.of(LLAMA3_8B, opts(1, 33)));
        assertThrows(IllegalArgumentException.class,
                () -> new Options(2, 2, 64, Remainder.FIRST, "1,1", Balance.MEMORY, DType.BF16, 0));
    }
}
