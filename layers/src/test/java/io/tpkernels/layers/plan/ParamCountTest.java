package io.tpkernels.layers.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tpkernels.layers.config.ArchitectureConfig;
import io.tpkernels.layers.config.WeightFormat;
import io.tpkernels.runtime.DType;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Each architecture's parts as transformers builds them, and how tensor parallelism splits them. */
class ParamCountTest {

    private static final WeightFormat BF16 = new WeightFormat(DType.BF16, null);

    /** vocab 1000, hidden 64, intermediate 128, 4 layers, 4 heads of 16, 2 KV heads; {@code extra} keys added. */
    private static ArchitectureConfig config(String extra) {
        return ArchitectureConfig.parse("{\"vocab_size\": 1000, \"hidden_size\": 64, \"intermediate_size\": 128, "
                + "\"num_hidden_layers\": 4, \"num_attention_heads\": 4, \"num_key_value_heads\": 2, " + extra + "}",
                "cfg.json");
    }

    private static ParamCount count(ArchitectureConfig c, int tp) {
        return ParamCount.of(c, tp, c.base().vocabSize(), 0, BF16);
    }

    private static final long H = 64, I = 128, Q = 4 * 16, KV = 2 * 16;

    @Test
    void qwen2HasQkvBiasesSplitLikeTheirProjections() {
        ParamCount whole = count(config("\"model_type\": \"qwen2\""), 1);
        long attention = Q * H + 2 * KV * H + H * Q + Q + 2 * KV; // q, k, v, o and the q/k/v biases
        assertEquals(attention + 3 * H * I + 2 * H, whole.layerParamsPerRank(0));
        ParamCount two = count(config("\"model_type\": \"qwen2\""), 2);
        assertEquals((Q * H + 2 * KV * H + H * Q + Q + 2 * KV) / 2 + 3 * H * I / 2 + 2 * H, two.layerParamsPerRank(0));
    }

    @Test
    void llamaBiasesAreColumnSplitOrAddedOnceAfterTheReduction() {
        ParamCount two = count(config("\"model_type\": \"llama\", \"attention_bias\": true, \"mlp_bias\": true"), 2);
        long weights = (Q * H + 2 * KV * H + H * Q + 3 * H * I) / 2;
        long columnBiases = (Q + 2 * KV + 2 * I) / 2; // q, k, v, gate, up
        long rowBiases = 2 * H;                        // o and down: whole on every rank
        assertEquals(weights + columnBiases + rowBiases + 2 * H, two.layerParamsPerRank(0));
    }

    @Test
    void qwen3HasPerHeadQkNorms() {
        ParamCount c = count(config("\"model_type\": \"qwen3\", \"head_dim\": 16"), 4);
        assertEquals((Q * H + H * Q + 3 * H * I) / 4 + 2 * 16 * H /* 2 KV heads of 16 on 4 ranks: one each */
                + 2 * 16 /* q_norm, k_norm */ + 2 * H, c.layerParamsPerRank(0));
    }

    @Test
    void qwen2MoeHasASharedExpertWithItsGateOnTheSparseLayers() {
        ParamCount c = count(config("\"model_type\": \"qwen2_moe\", \"num_experts\": 8, \"moe_intermediate_size\": 32, "
                + "\"shared_expert_intermediate_size\": 96, \"decoder_sparse_step\": 2, \"mlp_only_layers\": [3]"), 2);
        long attention = (Q * H + 2 * KV * H + H * Q + Q + 2 * KV) / 2 + 2 * H;
        long dense = attention + 3 * H * I / 2;
        long moe = attention + 8 * H /* router */ + 8 * 3 * H * 32 / 2 + 3 * H * 96 / 2 + H /* shared_expert_gate */;
        assertEquals(dense, c.layerParamsPerRank(0));
        assertEquals(moe, c.layerParamsPerRank(1));
        assertEquals(dense, c.layerParamsPerRank(2));
        assertEquals(dense, c.layerParamsPerRank(3), "mlp_only_layers");
    }

    private static final String MLA = "\"kv_lora_rank\": 16, \"qk_nope_head_dim\": 8, \"qk_rope_head_dim\": 4, "
            + "\"v_head_dim\": 8";

    @Test
    void deepSeekV2WithAPlainQProjAndMoeEverySecondLayer() {
        ParamCount c = count(config("\"model_type\": \"deepseek_v2\", \"q_lora_rank\": null, " + MLA
                + ", \"n_routed_experts\": 8, \"n_shared_experts\": 2, \"moe_intermediate_size\": 32, "
                + "\"first_k_dense_replace\": 1, \"moe_layer_freq\": 2"), 4);
        long heads = 4;
        long attention = heads * 12 * H / 4          // q_proj, column-parallel
                + (16 + 4) * H + 16                   // kv_a_proj_with_mqa and kv_a_layernorm, whole on every rank
                + heads * (8 + 8) * 16 / 4            // kv_b_proj, column-parallel
                + H * heads * 8 / 4                   // o_proj, row-parallel
                + 2 * H;
        long dense = attention + 3 * H * I / 4;
        long moe = attention + 8 * H + 8 * 3 * H * 32 / 4 + 3 * H * 64 / 4; // router, experts, 2 shared experts
        assertEquals(dense, c.layerParamsPerRank(0));
        assertEquals(dense, c.layerParamsPerRank(1), "1 % moe_layer_freq != 0");
        assertEquals(moe, c.layerParamsPerRank(2));
        assertEquals(dense, c.layerParamsPerRank(3));
    }

    @Test
    void deepSeekV3SplitsHeadsAndExpertsButNotTheLowRankProjectionsOrTheRouter() {
        ParamCount c = count(config("\"model_type\": \"deepseek_v3\", \"q_lora_rank\": 32, " + MLA
                + ", \"n_routed_experts\": 8, \"n_shared_experts\": 1, \"moe_intermediate_size\": 32, "
                + "\"first_k_dense_replace\": 0"), 2);
        long heads = 4;
        long attention = 32 * H + 32                  // q_a_proj and q_a_layernorm, whole
                + heads * 12 * 32 / 2                 // q_b_proj
                + (16 + 4) * H + 16 + heads * 16 * 16 / 2 + H * heads * 8 / 2 + 2 * H;
        long router = 8 * H + 8;                      // weight and e_score_correction_bias, whole
        assertEquals(attention + router + 9 * 3 * H * 32 / 2, c.layerParamsPerRank(0));
    }

    @Test
    void fp8CountsOneBytePerWeightAndAScalePerBlockEachRankOverlaps() {
        WeightFormat fp8 = new WeightFormat(DType.BF16, new WeightFormat.Fp8Blocks(128, 128));
        // 300 rows on 3 ranks: [0,100) overlaps one block, [100,200) and [200,300) two each.
        Weight w = Weight.column("w", Weight.Kind.LINEAR, 1, 300, 256, 3);
        assertEquals(100 * 256 + 4 * 2 * 2, w.bytesPerRank(fp8));
        assertEquals(300 * 256 + 4 * 3 * 2, w.bytes(fp8));
        Weight norm = Weight.replicated("n", Weight.Kind.NORM, 1, 300, 1);
        assertEquals(600, norm.bytesPerRank(fp8), "norms stay in the unquantized dtype");
        Weight router = Weight.replicated("g", Weight.Kind.ROUTER, 1, 8, 300);
        assertEquals(2 * 8 * 300, router.bytes(fp8));
    }

    @Test
    void scaleBlocksPerRankMatchACountBlockByBlock() {
        SplittableRandom random = new SplittableRandom(21);
        for (int trial = 0; trial < 2000; trial++) {
            long parts = 1 + random.nextInt(16);
            long size = parts * (1 + random.nextInt(700));
            long block = 1 + random.nextInt(300);
            long most = 0;
            for (long r = 0; r < parts; r++) {
                long n = size / parts;
                long blocks = 0;
                for (long b = 0; b * block < size; b++) {
                    if (b * block < (r + 1) * n && (b + 1) * block > r * n) {
                        blocks++;
                    }
                }
                most = Math.max(most, blocks);
            }
            assertEquals(most, Weight.blocks(size, parts, block), size + " in " + parts + " parts of blocks " + block);
        }
    }

    @Test
    void tpMustDivideEveryExpertsIntermediateSize() {
        ArchitectureConfig c = config("\"model_type\": \"qwen3_moe\", \"num_experts\": 8, \"moe_intermediate_size\": 48");
        var e = assertThrows(IllegalArgumentException.class, () -> count(c, 32));
        assertEquals("tp 32 does not divide moe_intermediate_size 48", e.getMessage());
        ArchitectureConfig mixtral = config("\"model_type\": \"mixtral\", \"num_local_experts\": 4");
        long attention = (Q * H + 2 * KV * H + H * Q) / 2 + 2 * H;
        assertEquals(attention + 4 * H /* router, whole */ + 4 * 3 * H * I / 2 /* experts of intermediate_size */,
                count(mixtral, 2).layerParamsPerRank(0));
    }

    @Test
    void loraIsCountedForDenseModelsOnly() {
        ArchitectureConfig c = config("\"model_type\": \"mixtral\", \"num_local_experts\": 4");
        var e = assertThrows(IllegalArgumentException.class, () -> ParamCount.of(c, 1, 1000, 8, BF16));
        assertEquals("--lora-rank is counted for dense models only; cfg.json is mixtral with experts", e.getMessage());
    }

    @Test
    void aTiedHeadCountsOnceInTheTotal() {
        ArchitectureConfig tied = config("\"model_type\": \"llama\", \"tie_word_embeddings\": true");
        ArchitectureConfig untied = config("\"model_type\": \"llama\"");
        assertEquals(1000 * H, count(untied, 1).totalParams() - count(tied, 1).totalParams());
        assertEquals(2 * 1000 * H, count(untied, 1).totalBytes() - count(tied, 1).totalBytes());
    }

    @Test
    void anOverflowingCountIsRefusedNamingTheFile() {
        ArchitectureConfig huge = ArchitectureConfig.parse("""
                {"model_type": "mixtral", "vocab_size": 1000, "hidden_size": 2147483647, "intermediate_size": 2147483647,
                 "num_hidden_layers": 4, "num_attention_heads": 1, "num_local_experts": 2147483647}""", "big.json");
        var e = assertThrows(IllegalArgumentException.class, () -> count(huge, 1));
        assertEquals("big.json: the parameter count overflows 64 bits", e.getMessage());
    }
}
