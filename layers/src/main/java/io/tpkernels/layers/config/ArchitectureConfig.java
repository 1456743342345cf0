package io.tpkernels.layers.config;

import io.tpkernels.layers.json.JsonArray;
import io.tpkernels.layers.json.JsonNumber;
import io.tpkernels.layers.json.JsonValue;
import io.tpkernels.runtime.DType;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What a Hugging Face {@code config.json} says about where a decoder's parameters are, for counting them as
 * transformers instantiates the architecture (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#counting-parameters-parallelplan-tpk-plan">section 11</a>):
 * the {@link ModelConfig} sizes, plus the architecture, its biases, its MLA and MoE parts, the checkpoint's dtype and
 * fp8 blocks, and how many multi-token-prediction layers the checkpoint carries beside the model (not counted). A key
 * that changes the count in a way this class does not model is refused by name, never read as a dense model: an
 * architecture outside {@link Architecture}, a {@code model_type} that disagrees with {@code architectures}, MoE or MLA
 * keys in a config that names no architecture, a dtype other than {@code bfloat16}, {@code float16} or {@code float32},
 * a {@code quantization_config} other than block-wise fp8 with dynamic activation scales, a {@code compression_config},
 * and a {@code modules_to_not_convert} entry naming a linear layer. Keys that do not change the count are not read.
 *
 * @param architecture      the architecture
 * @param base              the sizes every architecture has
 * @param qkvBias           whether q, k and v (MLA: {@code q_a_proj} and {@code kv_a_proj_with_mqa}) have biases
 * @param oBias             whether {@code o_proj} has a bias
 * @param mlpBias           whether the dense MLPs' gate, up and down have biases
 * @param mla               the latent attention, or {@code null} for GQA
 * @param moe               the experts, or {@code null} for a dense model
 * @param dtype             {@code torch_dtype} (or {@code dtype}), or {@code null} when the config gives none
 * @param fp8               the fp8 blocks of {@code quantization_config}, or {@code null}
 * @param mtpLayers         {@code num_nextn_predict_layers}: multi-token-prediction layers, not part of the model
 * @param source            the file, for messages
 */
public record ArchitectureConfig(Architecture architecture, ModelConfig base, boolean qkvBias, boolean oBias,
                                 boolean mlpBias, MlaConfig mla, MoeConfig moe, DType dtype,
                                 WeightFormat.Fp8Blocks fp8, int mtpLayers, String source) {

    /** Keys that change the count of a MoE or MLA model: refused when the config names no architecture. */
    private static final List<String> MOE_OR_MLA_KEYS = List.of("num_local_experts", "num_experts",
            "n_routed_experts", "n_shared_experts", "moe_intermediate_size", "shared_expert_intermediate_size",
            "first_k_dense_replace", "moe_layer_freq", "decoder_sparse_step", "mlp_only_layers", "num_experts_per_tok",
            "q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "qkv_bias");

    /** The most layers ({@code num_hidden_layers}) a plan counts (real decoders have a few hundred at most). */
    public static final int MAX_LAYERS = 1024;

    /** Modules whose weights stay unquantized anyway: a {@code modules_to_not_convert} entry may name only these. */
    private static final Set<String> UNQUANTIZED_MODULES = Set.of("lm_head", "embed_tokens", "gate",
            "shared_expert_gate", "norm", "input_layernorm", "post_attention_layernorm", "q_norm", "k_norm",
            "q_a_layernorm", "kv_a_layernorm");

    /**
     * A project config of the LLaMA-style decoder: no architecture named, no biases, experts or fp8, no dtype given.
     * Messages name it "config".
     *
     * @param base the decoder's sizes
     * @return the configuration of {@link Architecture#UNNAMED}
     */
    public static ArchitectureConfig of(ModelConfig base) {
        return new ArchitectureConfig(Architecture.UNNAMED, base, false, false, false, null, null, null, null, 0,
                "config");
    }

    /**
     * Whether any layer is a MoE layer ({@link MoeConfig#isMoeLayer}).
     *
     * @return false for a dense model, or one whose rules make every layer dense
     */
    public boolean hasMoeLayers() {
        if (moe == null) {
            return false;
        }
        for (int i = 0; i < base.numHiddenLayers(); i++) {
            if (moe.isMoeLayer(i)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether every layer is a plain dense layer (GQA or none, dense MLP): the layers LoRA is counted for.
     *
     * @return true without MLA and without MoE layers
     */
    public boolean dense() {
        return mla == null && !hasMoeLayers();
    }

    /**
     * Reads {@code file}, a Hugging Face {@code config.json} of at most 16 MiB.
     *
     * @param file the {@code config.json}
     * @return the configuration, which names {@code file} in messages
     * @throws IllegalArgumentException with one sentence naming the file, the key and the value: the file is missing,
     *     unreadable, too large or not a JSON object; a key the count needs is missing or out of range (more than
     *     {@link #MAX_LAYERS} layers, {@code num_attention_heads} missing for an architecture with attention, an
     *     architecture's expert or MLA sizes); or a key is refused (see above)
     */
    public static ArchitectureConfig read(Path file) {
        return parse(JsonFiles.read(file), file.toString());
    }

    /**
     * Parses {@code json}, the text of a {@code config.json}, as {@link #read} does.
     *
     * @param json the file's text
     * @param source names the file in messages (its path)
     * @return the configuration
     * @throws IllegalArgumentException with one sentence naming {@code source}, the key and the value, as
     *     {@link #read} says (but for reading the file)
     */
    public static ArchitectureConfig parse(String json, String source) {
        ConfigKeys keys = new ConfigKeys(JsonFiles.object(json, source), source);
        Architecture arch = Architecture.of(keys);
        ModelConfig base = ModelConfig.parse(json, source);
        if (base.numHiddenLayers() > MAX_LAYERS) {
            throw keys.error("num_hidden_layers", "must be at most " + MAX_LAYERS + " for tpk plan, got "
                    + base.numHiddenLayers());
        }
        if (arch == Architecture.UNNAMED) {
            for (String key : MOE_OR_MLA_KEYS) {
                if (keys.has(key)) {
                    throw keys.error(key, "(" + keys.get(key) + ") changes the parameter count, but the config "
                            + "names no architecture (model_type or architectures) that tpk plan counts");
                }
            }
        } else if (arch != Architecture.LLAMA && !base.hasAttention()) {
            throw keys.error("num_attention_heads", "is missing (" + arch.label() + " has attention)");
        }
        boolean attentionBias = keys.flag("attention_bias", false);
        boolean qkv = switch (arch) {
            case QWEN2 -> true;
            case QWEN2_MOE -> keys.flag("qkv_bias", true);
            case LLAMA, UNNAMED, QWEN3, QWEN3_MOE, DEEPSEEK_V2, DEEPSEEK_V3 -> attentionBias;
            case MISTRAL, MIXTRAL -> false;
        };
        boolean o = switch (arch) {
            case LLAMA, UNNAMED, QWEN3, QWEN3_MOE, DEEPSEEK_V2, DEEPSEEK_V3 -> attentionBias;
            default -> false;
        };
        boolean mlp = switch (arch) {
            case LLAMA, UNNAMED, DEEPSEEK_V2 -> keys.flag("mlp_bias", false);
            default -> false;
        };
        MlaConfig mla = arch.latentAttention() ? mla(keys) : null;
        MoeConfig moe = switch (arch) {
            case MIXTRAL -> new MoeConfig(keys.required("num_local_experts", 1, "mixtral counts its experts"),
                    base.intermediateSize(), 0, false, false, 0, 1, 1, Set.of());
            case QWEN2_MOE, QWEN3_MOE -> qwenMoe(keys, arch);
            case DEEPSEEK_V2, DEEPSEEK_V3 -> deepseekMoe(keys, arch);
            default -> null;
        };
        int mtp = (int) keys.optional("num_nextn_predict_layers", 0, 0);
        return new ArchitectureConfig(arch, base, qkv, o, mlp, mla, moe, dtype(keys), fp8(keys), mtp, source);
    }

    private static MlaConfig mla(ConfigKeys keys) {
        String why = "MLA counts it";
        if (!keys.present("q_lora_rank")) {
            throw keys.error("q_lora_rank", "is missing (MLA counts it; null means a plain q_proj)");
        }
        Long qLora = keys.nullable("q_lora_rank", 1);
        return new MlaConfig(qLora == null ? 0 : qLora, keys.required("kv_lora_rank", 1, why),
                keys.required("qk_nope_head_dim", 0, why), keys.required("qk_rope_head_dim", 0, why),
                keys.required("v_head_dim", 1, why));
    }

    private static MoeConfig qwenMoe(ConfigKeys keys, Architecture arch) {
        String why = arch.modelType() + " counts its experts";
        long experts = keys.required("num_experts", 0, why);
        if (experts == 0) {
            return null; // transformers builds every layer dense
        }
        long expertIntermediate = keys.required("moe_intermediate_size", 1, why);
        long shared = arch == Architecture.QWEN2_MOE
                ? keys.required("shared_expert_intermediate_size", 0, "qwen2_moe counts its shared expert") : 0;
        int step = (int) keys.optional("decoder_sparse_step", 1, 1);
        Set<Integer> dense = new HashSet<>(keys.indices("mlp_only_layers"));
        return new MoeConfig(experts, expertIntermediate, shared, arch == Architecture.QWEN2_MOE, false, 0, 1, step,
                dense);
    }

    private static MoeConfig deepseekMoe(ConfigKeys keys, Architecture arch) {
        String why = arch.modelType() + " counts its experts";
        if (!keys.present("n_routed_experts")) {
            throw keys.error("n_routed_experts", "is missing (" + why + "; null means a dense model)");
        }
        Long routed = keys.nullable("n_routed_experts", 1);
        if (routed == null) {
            return null; // transformers' DeepSeek code builds every layer dense
        }
        long expertIntermediate = keys.required("moe_intermediate_size", 1, why);
        if (!keys.present("n_shared_experts")) {
            throw keys.error("n_shared_experts", "is missing (" + why + "; null means none)");
        }
        Long shared = keys.nullable("n_shared_experts", 0);
        long sharedIntermediate;
        try {
            sharedIntermediate = Math.multiplyExact(shared == null ? 0 : shared, expertIntermediate);
        } catch (ArithmeticException e) {
            throw keys.error("n_shared_experts", "times moe_intermediate_size overflows");
        }
        int firstDense = (int) keys.required("first_k_dense_replace", 0, why);
        int freq = (int) keys.optional("moe_layer_freq", 1, 1);
        return new MoeConfig(routed, expertIntermediate, sharedIntermediate, false, arch == Architecture.DEEPSEEK_V3,
                firstDense, freq, 1, Set.of());
    }

    private static DType dtype(ConfigKeys keys) {
        DType torch = dtype(keys, "torch_dtype");
        DType plain = dtype(keys, "dtype");
        if (torch != null && plain != null && torch != plain) {
            throw keys.error("dtype", keys.get("dtype") + " disagrees with torch_dtype " + keys.get("torch_dtype"));
        }
        return plain != null ? plain : torch;
    }

    private static DType dtype(ConfigKeys keys, String key) {
        String name = keys.text(key);
        if (name == null) {
            return null;
        }
        return switch (name) {
            case "bfloat16" -> DType.BF16;
            case "float16" -> DType.F16;
            case "float32" -> DType.F32;
            default -> throw keys.error(key, "\"" + name + "\" is not a dtype tpk plan counts (bfloat16, float16, "
                    + "float32)");
        };
    }

    private static WeightFormat.Fp8Blocks fp8(ConfigKeys root) {
        if (root.has("compression_config")) {
            throw root.error("compression_config", "is not modelled (tpk plan counts F32/F16/BF16 weights and "
                    + "block-wise fp8)");
        }
        ConfigKeys q = root.object("quantization_config");
        if (q == null) {
            return null;
        }
        String method = q.text("quant_method");
        if (method == null) {
            throw q.error("quant_method", "is missing");
        }
        if (!method.equals("fp8")) {
            throw q.error("quant_method", "\"" + method + "\" is not modelled (tpk plan counts F32/F16/BF16 weights "
                    + "and block-wise fp8)");
        }
        String fmt = q.text("fmt");
        if (fmt != null && !fmt.equals("e4m3") && !fmt.equals("e5m2")) {
            throw q.error("fmt", "\"" + fmt + "\" is not an fp8 format (e4m3, e5m2)");
        }
        String activations = q.text("activation_scheme");
        if (activations != null && !activations.equals("dynamic")) {
            throw q.error("activation_scheme", "\"" + activations + "\" is not modelled (only dynamic activation "
                    + "scales, which the checkpoint does not store)");
        }
        JsonValue block = q.get("weight_block_size");
        if (block == null || block.isNull()) {
            throw q.error("weight_block_size", "is missing (tpk plan counts block-wise fp8 only)");
        }
        if (!(block instanceof JsonArray pair && pair.size() == 2 && positiveInt(pair.get(0))
                && positiveInt(pair.get(1)))) {
            throw q.error("weight_block_size", "must be two positive integers, got " + block);
        }
        for (String module : q.texts("modules_to_not_convert")) {
            String last = module.substring(module.lastIndexOf('.') + 1);
            if (!UNQUANTIZED_MODULES.contains(last)) {
                throw q.error("modules_to_not_convert", "names \"" + module + "\", a linear layer tpk plan would "
                        + "count as fp8 (it keeps only embeddings, norms, routers and the LM head unquantized)");
            }
        }
        return new WeightFormat.Fp8Blocks(pair.getInt(0), pair.getInt(1));
    }

    private static boolean positiveInt(JsonValue v) {
        return v instanceof JsonNumber n && n.fitsInt() && n.longValue() >= 1;
    }
}
