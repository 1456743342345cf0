package io.tpkernels.layers.config;

import java.util.Set;

/**
 * The mixture-of-experts part of a config (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#counting-parameters-parallelplan-tpk-plan">section 11</a>),
 * for the architectures that have one. A MoE layer holds a router {@code [experts, H]}, {@code experts} SwiGLU experts
 * of {@code expertIntermediate}, and optionally a shared expert of {@code sharedIntermediate}; the other layers hold a
 * dense MLP of {@code intermediate_size}. Which layers are MoE follows each architecture's rule, all in
 * {@link #isMoeLayer}.
 *
 * @param experts            routed experts ({@code num_local_experts}, {@code num_experts}, {@code n_routed_experts})
 * @param expertIntermediate each expert's intermediate size ({@code moe_intermediate_size}; Mixtral's
 *                           {@code intermediate_size})
 * @param sharedIntermediate the shared expert's intermediate size, 0 for none (Qwen2-MoE's
 *                           {@code shared_expert_intermediate_size}; DeepSeek's {@code n_shared_experts ·
 *                           moe_intermediate_size})
 * @param sharedExpertGate   whether the shared expert has a sigmoid gate {@code [1, H]} (Qwen2-MoE)
 * @param routerBias         whether the router has a score-correction bias {@code [experts]} (DeepSeek-V3)
 * @param firstDense         layers before this one are dense (DeepSeek's {@code first_k_dense_replace})
 * @param layerFreq          a layer from {@code firstDense} on is MoE when its index is a multiple of this
 *                           (DeepSeek's {@code moe_layer_freq})
 * @param sparseStep         a layer is MoE when its index plus one is a multiple of this (Qwen's
 *                           {@code decoder_sparse_step})
 * @param denseLayers        layers that are dense whatever the other rules say (Qwen's {@code mlp_only_layers})
 */
public record MoeConfig(long experts, long expertIntermediate, long sharedIntermediate, boolean sharedExpertGate,
                        boolean routerBias, int firstDense, int layerFreq, int sparseStep, Set<Integer> denseLayers) {

    /**
     * Checks the sizes and copies {@code denseLayers}.
     *
     * @param experts            routed experts, at least 1
     * @param expertIntermediate each expert's intermediate size, at least 1
     * @param sharedIntermediate the shared expert's intermediate size, 0 for none
     * @param sharedExpertGate   whether the shared expert has a sigmoid gate
     * @param routerBias         whether the router has a score-correction bias
     * @param firstDense         layers before this one are dense, at least 0
     * @param layerFreq          the MoE layers' index step from {@code firstDense} on, at least 1
     * @param sparseStep         the MoE layers' step in index plus one, at least 1
     * @param denseLayers        layers that are dense whatever the other rules say; copied
     * @throws IllegalArgumentException when a size or step is below its least value
     */
    public MoeConfig {
        if (experts < 1 || expertIntermediate < 1 || sharedIntermediate < 0 || firstDense < 0 || layerFreq < 1
                || sparseStep < 1) {
            throw new IllegalArgumentException("bad MoE config: experts " + experts + ", intermediate "
                    + expertIntermediate + ", shared " + sharedIntermediate + ", first dense " + firstDense
                    + ", layer freq " + layerFreq + ", sparse step " + sparseStep);
        }
        denseLayers = Set.copyOf(denseLayers);
    }

    /**
     * Whether layer {@code layer} is a MoE layer (else it holds the dense MLP).
     *
     * @param layer a layer index, from 0
     * @return whether the layer's MLP is routed experts
     */
    public boolean isMoeLayer(int layer) {
        return layer >= firstDense && layer % layerFreq == 0 && (layer + 1) % sparseStep == 0
                && !denseLayers.contains(layer);
    }
}
