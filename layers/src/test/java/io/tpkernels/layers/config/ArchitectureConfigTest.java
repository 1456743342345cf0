package io.tpkernels.layers.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ArchitectureConfigTest {

    /** A small config with {@code extra} keys added. */
    static String config(String extra) {
        return "{\"vocab_size\": 1000, \"hidden_size\": 64, \"intermediate_size\": 128, \"num_hidden_layers\": 4, "
                + "\"num_attention_heads\": 4, \"num_key_value_heads\": 2" + (extra.isEmpty() ? "" : ", " + extra) + "}";
    }

    static ArchitectureConfig parse(String extra) {
        return ArchitectureConfig.parse(config(extra), "cfg.json");
    }

    private static final String DEEPSEEK_V3 = "\"model_type\": \"deepseek_v3\", \"q_lora_rank\": 32, "
            + "\"kv_lora_rank\": 16, \"qk_nope_head_dim\": 8, \"qk_rope_head_dim\": 4, \"v_head_dim\": 8, "
            + "\"n_routed_experts\": 8, \"n_shared_experts\": 1, \"moe_intermediate_size\": 32, "
            + "\"first_k_dense_replace\": 1";

    @Test
    void theArchitectureIsNamedByItsClassElseByModelType() {
        assertEquals(Architecture.QWEN2, parse("\"architectures\": [\"Qwen2ForCausalLM\"]").architecture());
        assertEquals(Architecture.MISTRAL, parse("\"model_type\": \"mistral\"").architecture());
        assertEquals(Architecture.UNNAMED, parse("").architecture());
        // A family that reuses a class under a model_type of its own counts as the class.
        assertEquals(Architecture.LLAMA,
                parse("\"model_type\": \"my_llama\", \"architectures\": [\"LlamaForCausalLM\"]").architecture());
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
        "\"architectures\": [\"GemmaForCausalLM\"]| cfg.json: architectures names \"GemmaForCausalLM\", which tpk plan does not count",
        "\"model_type\": \"gpt_oss\"| cfg.json: model_type \"gpt_oss\" is not an architecture tpk plan counts",
        "\"model_type\": \"mistral\", \"architectures\": [\"LlamaForCausalLM\"]| cfg.json: model_type \"mistral\" disagrees with architectures \"LlamaForCausalLM\"",
        "\"architectures\": [\"LlamaForCausalLM\", \"MixtralForCausalLM\"]| cfg.json: architectures names two architectures",
        "\"architectures\": \"LlamaForCausalLM\"| cfg.json: architectures must be a list of strings, got \"LlamaForCausalLM\"",
        "\"num_experts\": 64, \"moe_intermediate_size\": 32| cfg.json: num_experts (64) changes the parameter count, but the config names no architecture",
        "\"kv_lora_rank\": 512| cfg.json: kv_lora_rank (512) changes the parameter count",
        "\"model_type\": \"mixtral\"| cfg.json: num_local_experts is missing (mixtral counts its experts)",
        "\"model_type\": \"mixtral\", \"num_local_experts\": 0| cfg.json: num_local_experts must be a positive integer, got 0",
        "\"model_type\": \"qwen3_moe\", \"num_experts\": 8| cfg.json: moe_intermediate_size is missing",
        "\"model_type\": \"qwen2_moe\", \"num_experts\": 8, \"moe_intermediate_size\": 32| cfg.json: shared_expert_intermediate_size is missing",
        "\"model_type\": \"qwen3_moe\", \"num_experts\": 8, \"moe_intermediate_size\": 32, \"decoder_sparse_step\": 0| cfg.json: decoder_sparse_step must be a positive integer, got 0",
        "\"model_type\": \"qwen3_moe\", \"num_experts\": 8, \"moe_intermediate_size\": 32, \"mlp_only_layers\": [1, \"2\"]| cfg.json: mlp_only_layers must be a list of layer indices, got [1,\"2\"]",
        "\"model_type\": \"deepseek_v3\", \"kv_lora_rank\": 16| cfg.json: q_lora_rank is missing (MLA counts it; null means a plain q_proj)",
        "\"model_type\": \"deepseek_v2\", \"q_lora_rank\": null, \"kv_lora_rank\": 16, \"qk_nope_head_dim\": 8, \"qk_rope_head_dim\": 4, \"v_head_dim\": 8| cfg.json: n_routed_experts is missing",
        "\"model_type\": \"deepseek_v2\", \"q_lora_rank\": 0, \"kv_lora_rank\": 16| cfg.json: q_lora_rank must be a positive integer, got 0",
        "\"torch_dtype\": \"float8_e4m3fn\"| cfg.json: torch_dtype \"float8_e4m3fn\" is not a dtype tpk plan counts",
        "\"torch_dtype\": \"bfloat16\", \"dtype\": \"float16\"| cfg.json: dtype \"float16\" disagrees with torch_dtype \"bfloat16\"",
        "\"attention_bias\": \"yes\"| cfg.json: attention_bias must be true or false, got \"yes\"",
        "\"num_nextn_predict_layers\": -1| cfg.json: num_nextn_predict_layers must be a non-negative integer, got -1",
        "\"quantization_config\": {\"quant_method\": \"awq\", \"bits\": 4}| cfg.json: quantization_config.quant_method \"awq\" is not modelled",
        "\"quantization_config\": {\"bits\": 4}| cfg.json: quantization_config.quant_method is missing",
        "\"quantization_config\": {\"quant_method\": \"fp8\"}| cfg.json: quantization_config.weight_block_size is missing (tpk plan counts block-wise fp8 only)",
        "\"quantization_config\": {\"quant_method\": \"fp8\", \"weight_block_size\": [128]}| cfg.json: quantization_config.weight_block_size must be two positive integers, got [128]",
        "\"quantization_config\": {\"quant_method\": \"fp8\", \"weight_block_size\": [128, 0]}| cfg.json: quantization_config.weight_block_size must be two positive integers, got [128,0]",
        "\"quantization_config\": {\"quant_method\": \"fp8\", \"weight_block_size\": [128, 128], \"activation_scheme\": \"static\"}| cfg.json: quantization_config.activation_scheme \"static\" is not modelled",
        "\"quantization_config\": {\"quant_method\": \"fp8\", \"weight_block_size\": [128, 128], \"fmt\": \"e3m4\"}| cfg.json: quantization_config.fmt \"e3m4\" is not an fp8 format",
        "\"quantization_config\": {\"quant_method\": \"fp8\", \"weight_block_size\": [128, 128], \"modules_to_not_convert\": [\"model.layers.0.mlp.down_proj\"]}| cfg.json: quantization_config.modules_to_not_convert names \"model.layers.0.mlp.down_proj\"",
        "\"quantization_config\": \"fp8\"| cfg.json: quantization_config must be an object, got \"fp8\"",
        "\"compression_config\": {}| cfg.json: compression_config is not modelled",
        "\"model_type\": \"mixtral\", \"num_local_experts\": 4294967296| cfg.json: num_local_experts must be at most 2147483647, got 4294967296",
    })
    void whatThePlanDoesNotModelIsRefusedByName(String extra, String expected) {
        var e = assertThrows(IllegalArgumentException.class, () -> parse(extra));
        assertTrue(e.getMessage().startsWith(expected.strip()), e.getMessage());
    }

    @Test
    void aPlanCountsAtMostMaxLayers() {
        String json = config("").replace("\"num_hidden_layers\": 4", "\"num_hidden_layers\": 1025");
        var e = assertThrows(IllegalArgumentException.class, () -> ArchitectureConfig.parse(json, "cfg.json"));
        assertEquals("cfg.json: num_hidden_layers must be at most 1024 for tpk plan, got 1025", e.getMessage());
    }

    @Test
    void anArchitectureWithAttentionNeedsItsHeads() {
        var e = assertThrows(IllegalArgumentException.class, () -> ArchitectureConfig.parse("""
                {"model_type": "mistral", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 8,
                 "num_hidden_layers": 1}""", "cfg.json"));
        assertEquals("cfg.json: num_attention_heads is missing (mistral has attention)", e.getMessage());
        // LLaMA without heads is the MLP-only demo model, as tpk demo writes it.
        assertFalse(ArchitectureConfig.parse("""
                {"architectures": ["LlamaForCausalLM"], "vocab_size": 10, "hidden_size": 8, "intermediate_size": 8,
                 "num_hidden_layers": 1}""", "cfg.json").base().hasAttention());
    }

    @Test
    void biasesFollowEachArchitecture() {
        ArchitectureConfig qwen2 = parse("\"model_type\": \"qwen2\", \"attention_bias\": false");
        assertTrue(qwen2.qkvBias() && !qwen2.oBias(), "Qwen2 always has q/k/v biases, never an o bias");
        ArchitectureConfig llama = parse("\"model_type\": \"llama\", \"attention_bias\": true, \"mlp_bias\": true");
        assertTrue(llama.qkvBias() && llama.oBias() && llama.mlpBias());
        ArchitectureConfig mistral = parse("\"model_type\": \"mistral\", \"attention_bias\": true");
        assertFalse(mistral.qkvBias() || mistral.oBias(), "Mistral's projections have no biases");
        ArchitectureConfig qwen2Moe = parse("\"model_type\": \"qwen2_moe\", \"num_experts\": 0");
        assertTrue(qwen2Moe.qkvBias(), "qkv_bias defaults to true");
        assertNull(qwen2Moe.moe(), "num_experts 0: every layer dense, as transformers builds it");
        assertFalse(parse("\"model_type\": \"qwen2_moe\", \"num_experts\": 0, \"qkv_bias\": false").qkvBias());
    }

    @Test
    void deepSeekReadsMlaExpertsFp8AndMultiTokenPrediction() {
        ArchitectureConfig c = parse(DEEPSEEK_V3 + ", \"num_nextn_predict_layers\": 1, \"torch_dtype\": \"bfloat16\", "
                + "\"quantization_config\": {\"quant_method\": \"fp8\", \"fmt\": \"e4m3\", \"activation_scheme\": "
                + "\"dynamic\", \"weight_block_size\": [128, 64], \"modules_to_not_convert\": [\"lm_head\", "
                + "\"model.layers.1.mlp.gate\"]}");
        assertEquals(new MlaConfig(32, 16, 8, 4, 8), c.mla());
        assertEquals(8, c.moe().experts());
        assertEquals(32, c.moe().sharedIntermediate());
        assertTrue(c.moe().routerBias(), "V3's router has the score-correction bias");
        assertFalse(c.moe().isMoeLayer(0));
        assertTrue(c.moe().isMoeLayer(1));
        assertEquals(new WeightFormat.Fp8Blocks(128, 64), c.fp8());
        assertEquals(DType.BF16, c.dtype());
        assertEquals(1, c.mtpLayers());
        ArchitectureConfig plainQ = parse(DEEPSEEK_V3.replace("\"q_lora_rank\": 32", "\"q_lora_rank\": null")
                .replace("\"n_routed_experts\": 8", "\"n_routed_experts\": null"));
        assertFalse(plainQ.mla().lowRankQ());
        assertNull(plainQ.moe(), "n_routed_experts null: a dense model");
        ArchitectureConfig v2 = parse(DEEPSEEK_V3.replace("deepseek_v3", "deepseek_v2") + ", \"moe_layer_freq\": 2");
        assertFalse(v2.moe().routerBias());
        assertFalse(v2.moe().isMoeLayer(1), "layer 1 is past first_k_dense_replace but not a multiple of 2");
        assertTrue(v2.moe().isMoeLayer(2));
    }

    @Test
    void qwenMoeLayersFollowTheSparseStepAndTheMlpOnlyLayers() {
        MoeConfig moe = parse("\"model_type\": \"qwen3_moe\", \"num_experts\": 8, \"moe_intermediate_size\": 32, "
                + "\"decoder_sparse_step\": 2, \"mlp_only_layers\": [3]").moe();
        assertFalse(moe.isMoeLayer(0));
        assertTrue(moe.isMoeLayer(1));
        assertFalse(moe.isMoeLayer(2));
        assertFalse(moe.isMoeLayer(3), "listed in mlp_only_layers");
    }
}
