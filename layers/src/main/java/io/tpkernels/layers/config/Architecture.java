package io.tpkernels.layers.config;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The decoder architectures whose parameters {@code tpk plan} counts, each as Hugging Face transformers instantiates
 * its {@code *ForCausalLM} class (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#counting-parameters-parallelplan-tpk-plan">section 11</a>).
 * A config names its architecture by {@code architectures} (the class transformers instantiates, which wins) or else by
 * {@code model_type}; a config that names neither is the LLaMA-style decoder of the project's own configs (the demo
 * model among them).
 */
public enum Architecture {
    /** LLaMA: GQA; q/k/v/o biases with {@code attention_bias}, gate/up/down biases with {@code mlp_bias}. */
    LLAMA("llama", "LlamaForCausalLM"),
    /** Mistral: GQA, no biases. */
    MISTRAL("mistral", "MistralForCausalLM"),
    /** Qwen2: GQA with q/k/v biases. */
    QWEN2("qwen2", "Qwen2ForCausalLM"),
    /** Qwen3: GQA with per-head q/k norms; biases with {@code attention_bias}. */
    QWEN3("qwen3", "Qwen3ForCausalLM"),
    /** Mixtral: GQA; every layer has {@code num_local_experts} experts of {@code intermediate_size}. */
    MIXTRAL("mixtral", "MixtralForCausalLM"),
    /** Qwen2-MoE: Qwen2's attention ({@code qkv_bias}); routed experts plus a gated shared expert. */
    QWEN2_MOE("qwen2_moe", "Qwen2MoeForCausalLM"),
    /** Qwen3-MoE: Qwen3's attention; routed experts. */
    QWEN3_MOE("qwen3_moe", "Qwen3MoeForCausalLM"),
    /** DeepSeek-V2: MLA; routed and shared experts after the dense-first layers. */
    DEEPSEEK_V2("deepseek_v2", "DeepseekV2ForCausalLM"),
    /** DeepSeek-V3: as V2, and the router carries a score-correction bias. */
    DEEPSEEK_V3("deepseek_v3", "DeepseekV3ForCausalLM"),
    /** No architecture named: the LLaMA-style decoder, MLP-only without {@code num_attention_heads}. */
    UNNAMED(null, null);

    private final String modelType;
    private final String className;

    Architecture(String modelType, String className) {
        this.modelType = modelType;
        this.className = className;
    }

    /**
     * The {@code model_type} that names it.
     *
     * @return the {@code model_type} ({@code "llama"}), {@code null} for {@link #UNNAMED}
     */
    public String modelType() {
        return modelType;
    }

    /**
     * The transformers class that {@code architectures} names.
     *
     * @return the class name ({@code "LlamaForCausalLM"}), {@code null} for {@link #UNNAMED}
     */
    public String className() {
        return className;
    }

    /**
     * Whether its layers use multi-head latent attention (MLA) instead of GQA.
     *
     * @return true for DeepSeek-V2 and V3
     */
    public boolean latentAttention() {
        return this == DEEPSEEK_V2 || this == DEEPSEEK_V3;
    }

    /**
     * Whether it has per-head RMSNorms on q and k ({@code q_norm}, {@code k_norm}).
     *
     * @return true for Qwen3 and Qwen3-MoE
     */
    public boolean qkNorm() {
        return this == QWEN3 || this == QWEN3_MOE;
    }

    /**
     * Names it in messages and in {@code tpk plan}'s output.
     *
     * @return its {@code model_type}, or "unnamed (LLaMA-style)"
     */
    public String label() {
        return modelType != null ? modelType : "unnamed (LLaMA-style)";
    }

    /**
     * The architecture {@code keys} names: by {@code architectures} when given (every entry known and the same),
     * else by {@code model_type}, else {@link #UNNAMED}. A known {@code model_type} that disagrees with a known
     * class is refused; an unknown one beside a known class is not (a model family may reuse a class).
     */
    static Architecture of(ConfigKeys keys) {
        List<String> classes = keys.texts("architectures");
        String modelType = keys.text("model_type");
        Architecture byType = modelType == null ? null : Arrays.stream(values())
                .filter(a -> modelType.equals(a.modelType)).findFirst().orElse(null);
        if (!classes.isEmpty()) {
            Architecture byClass = null;
            for (String c : classes) {
                Architecture a = Arrays.stream(values()).filter(v -> c.equals(v.className)).findFirst()
                        .orElseThrow(() -> keys.error("architectures", "names " + quote(c)
                                + ", which tpk plan does not count (it counts " + known(Architecture::className) + ")"));
                if (byClass != null && a != byClass) {
                    throw keys.error("architectures", "names two architectures, " + classes);
                }
                byClass = a;
            }
            if (byType != null && byType != byClass) {
                throw keys.error("model_type", quote(modelType) + " disagrees with architectures "
                        + quote(byClass.className));
            }
            return byClass;
        }
        if (modelType != null) {
            if (byType == null) {
                throw keys.error("model_type", quote(modelType) + " is not an architecture tpk plan counts (it counts "
                        + known(Architecture::modelType) + ")");
            }
            return byType;
        }
        return UNNAMED;
    }

    private static String known(java.util.function.Function<Architecture, String> name) {
        return Arrays.stream(values()).map(name).filter(n -> n != null).collect(Collectors.joining(", "));
    }

    private static String quote(String s) {
        return "\"" + s + "\"";
    }
}
