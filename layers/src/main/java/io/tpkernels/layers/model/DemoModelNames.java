package io.tpkernels.layers.model;

/**
 * The Hugging Face / LLaMA tensor names of the demo model (SEMANTICS.md section 9) and PEFT's names for its
 * adapters.
 */
public final class DemoModelNames {
    /** The embedding, {@code [V, H]}. */
    public static final String EMBED = "model.embed_tokens.weight";
    /** The LM head, {@code [V, H]} (absent when the embeddings are tied). */
    public static final String LM_HEAD = "lm_head.weight";

    /** The three projections of a layer's MLP. */
    public enum Projection {
        /** {@code [I, H]}, column-parallel. */
        GATE("gate_proj"),
        /** {@code [I, H]}, column-parallel. */
        UP("up_proj"),
        /** {@code [H, I]}, row-parallel. */
        DOWN("down_proj");

        private final String module;

        Projection(String module) {
            this.module = module;
        }

        /** The module name PEFT's {@code target_modules} uses ("gate_proj"). */
        public String module() {
            return module;
        }
    }

    private DemoModelNames() {
    }

    /** {@code model.layers.{layer}.mlp.{proj}.weight}. */
    public static String weight(int layer, Projection p) {
        return "model.layers." + layer + ".mlp." + p.module + ".weight";
    }

    /** PEFT's {@code base_model.model.model.layers.{layer}.mlp.{proj}.lora_A.weight}. */
    public static String loraA(int layer, Projection p) {
        return "base_model.model." + weight(layer, p).replace(".weight", ".lora_A.weight");
    }

    /** PEFT's {@code base_model.model.model.layers.{layer}.mlp.{proj}.lora_B.weight}. */
    public static String loraB(int layer, Projection p) {
        return "base_model.model." + weight(layer, p).replace(".weight", ".lora_B.weight");
    }
}
