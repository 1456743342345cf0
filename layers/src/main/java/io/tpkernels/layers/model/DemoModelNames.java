package io.tpkernels.layers.model;

import java.util.ArrayList;
import java.util.List;

/**
 * The Hugging Face / LLaMA tensor names of the demo model (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#13-the-demo-model">section 13</a>) and
 * PEFT's names for its adapters.
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

        /**
         * The module name PEFT's {@code target_modules} uses ("gate_proj").
         *
         * @return the projection's short name
         */
        public String module() {
            return module;
        }
    }

    /** What a module of the model is, as far as an adapter is concerned. */
    public enum Kind {
        /** A module that only holds others ({@code model}, {@code model.layers.3.mlp}). */
        CONTAINER,
        /** The token embedding. */
        EMBEDDING,
        /** A linear layer of an MLP: where LoRA goes. */
        PROJECTION,
        /** The LM head, the model's output layer. */
        OUTPUT
    }

    /**
     * A module by its full name, as PyTorch's {@code named_modules} lists it.
     *
     * @param name the module's full name ({@code model.layers.3.mlp.up_proj})
     * @param kind what it is
     */
    public record Module(String name, Kind kind) {
    }

    /** Prefix of every tensor of a PEFT adapter file: the wrapped model's path. */
    public static final String PEFT_PREFIX = "base_model.model.";

    private DemoModelNames() {
    }

    /**
     * Every module of a model of {@code layers} layers, in PyTorch's {@code named_modules} order (root omitted).
     *
     * @param layers the decoder layers
     * @return the modules, from {@code model} to {@code lm_head}
     */
    public static List<Module> modules(int layers) {
        List<Module> out = new ArrayList<>();
        out.add(new Module("model", Kind.CONTAINER));
        out.add(new Module("model.embed_tokens", Kind.EMBEDDING));
        out.add(new Module("model.layers", Kind.CONTAINER));
        for (int i = 0; i < layers; i++) {
            out.add(new Module("model.layers." + i, Kind.CONTAINER));
            out.add(new Module("model.layers." + i + ".mlp", Kind.CONTAINER));
            for (Projection p : Projection.values()) {
                out.add(new Module(module(i, p), Kind.PROJECTION));
            }
        }
        out.add(new Module("lm_head", Kind.OUTPUT));
        return out;
    }

    /**
     * {@code model.layers.{layer}.mlp.{proj}}: the module's full name.
     *
     * @param layer the layer's index
     * @param p the projection
     * @return the name
     */
    public static String module(int layer, Projection p) {
        return "model.layers." + layer + ".mlp." + p.module;
    }

    /**
     * {@code model.layers.{layer}.mlp.{proj}.weight}.
     *
     * @param layer the layer's index
     * @param p the projection
     * @return the weight's tensor name
     */
    public static String weight(int layer, Projection p) {
        return module(layer, p) + ".weight";
    }

    /**
     * PEFT's {@code base_model.model.model.layers.{layer}.mlp.{proj}.lora_A.weight}.
     *
     * @param layer the layer's index
     * @param p the projection
     * @return the tensor name of the adapter's {@code A}
     */
    public static String loraA(int layer, Projection p) {
        return peftTensor(module(layer, p), "lora_A.weight");
    }

    /**
     * PEFT's {@code base_model.model.model.layers.{layer}.mlp.{proj}.lora_B.weight}.
     *
     * @param layer the layer's index
     * @param p the projection
     * @return the tensor name of the adapter's {@code B}
     */
    public static String loraB(int layer, Projection p) {
        return peftTensor(module(layer, p), "lora_B.weight");
    }

    /**
     * PEFT's name for the tensor {@code suffix} of module {@code module}: {@code base_model.model.<module>.<suffix>}.
     *
     * @param module the module's full name
     * @param suffix the tensor's name within the module ({@code lora_A.weight})
     * @return the tensor name in an adapter file
     */
    public static String peftTensor(String module, String suffix) {
        return PEFT_PREFIX + module + "." + suffix;
    }
}
