package io.tpkernels.layers.config;

/**
 * Multi-head latent attention (DeepSeek-V2/V3), as transformers instantiates it: q through a low-rank
 * {@code q_a_proj [qLoraRank, H]}, {@code q_a_layernorm} and {@code q_b_proj [heads·(nope+rope), qLoraRank]}, or a
 * plain {@code q_proj [heads·(nope+rope), H]} when {@code q_lora_rank} is null; {@code kv_a_proj_with_mqa
 * [kvLoraRank+rope, H]}, {@code kv_a_layernorm [kvLoraRank]}, {@code kv_b_proj [heads·(nope+v), kvLoraRank]};
 * {@code o_proj [H, heads·v]}.
 *
 * @param qLoraRank     {@code q_lora_rank}, 0 when it is null (a plain q_proj)
 * @param kvLoraRank    {@code kv_lora_rank}
 * @param qkNopeHeadDim {@code qk_nope_head_dim}
 * @param qkRopeHeadDim {@code qk_rope_head_dim}
 * @param vHeadDim      {@code v_head_dim}
 */
public record MlaConfig(long qLoraRank, long kvLoraRank, long qkNopeHeadDim, long qkRopeHeadDim, long vHeadDim) {

    /**
     * Checks the sizes.
     *
     * @param qLoraRank     {@code q_lora_rank}, 0 when it is null (a plain q_proj)
     * @param kvLoraRank    {@code kv_lora_rank}
     * @param qkNopeHeadDim {@code qk_nope_head_dim}
     * @param qkRopeHeadDim {@code qk_rope_head_dim}
     * @param vHeadDim      {@code v_head_dim}
     * @throws IllegalArgumentException when {@code qLoraRank}, {@code qkNopeHeadDim} or {@code qkRopeHeadDim} is
     *     negative, {@code kvLoraRank} or {@code vHeadDim} is below 1, or the qk head dimension is 0
     */
    public MlaConfig {
        if (qLoraRank < 0 || kvLoraRank < 1 || qkNopeHeadDim < 0 || qkRopeHeadDim < 0 || vHeadDim < 1
                || qkNopeHeadDim + qkRopeHeadDim < 1) {
            throw new IllegalArgumentException("bad MLA config: q_lora_rank " + qLoraRank + ", kv_lora_rank "
                    + kvLoraRank + ", head dims " + qkNopeHeadDim + "/" + qkRopeHeadDim + "/" + vHeadDim);
        }
    }

    /**
     * Whether q goes through the low-rank {@code q_a_proj}/{@code q_b_proj} pair.
     *
     * @return false for a plain {@code q_proj} ({@code q_lora_rank} null)
     */
    public boolean lowRankQ() {
        return qLoraRank > 0;
    }

    /**
     * The head dimension of q and k.
     *
     * @return {@code qk_nope_head_dim + qk_rope_head_dim}
     */
    public long qkHeadDim() {
        return qkNopeHeadDim + qkRopeHeadDim;
    }
}
