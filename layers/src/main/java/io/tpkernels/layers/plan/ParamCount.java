package io.tpkernels.layers.plan;

import io.tpkernels.layers.config.Architecture;
import io.tpkernels.layers.config.ArchitectureConfig;
import io.tpkernels.layers.config.MlaConfig;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.config.MoeConfig;
import io.tpkernels.layers.config.WeightFormat;
import io.tpkernels.layers.plan.Weight.Kind;
import java.util.ArrayList;
import java.util.List;

/**
 * The parameters of a decoder as Hugging Face transformers instantiates its architecture (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#11-pipeline-partition-and-the-parallel-plan">section 11</a>),
 * weight by weight, whole and as one tensor-parallel rank holds them: the embedding, each layer (attention, norms,
 * dense MLP or experts, LoRA factors), the final norm and the LM head. Attention heads, the MLP and every expert's
 * intermediate dimension split over {@code tp} like the dense layers (column-parallel q/k/v/gate/up, row-parallel
 * o/down); KV heads fewer than {@code tp} are replicated, one head per rank; norms, routers and the low-rank MLA
 * projections ({@code q_a_proj}, {@code kv_a_proj_with_mqa}) are whole on every rank. The embedding and head hold
 * {@code vocabRowsPerRank} rows. Multi-token-prediction layers are not part of the model.
 */
public final class ParamCount {
    private final ArchitectureConfig config;
    private final int tp;
    private final int loraRank;
    private final Weight embedding;
    private final List<List<Weight>> layers;
    private final Weight finalNorm;
    private final Weight lmHead;
    private final WeightFormat format;
    private final long[] layerParamsPerRank;
    private final long[] layerBytesPerRank;
    private final long totalParams;
    private final long totalBytes;

    private ParamCount(ArchitectureConfig config, int tp, long vocabRowsPerRank, int loraRank, WeightFormat format) {
        this.config = config;
        this.tp = tp;
        this.loraRank = loraRank;
        this.format = format;
        ModelConfig m = config.base();
        checkDivisibility();
        if (loraRank > 0 && !config.dense()) {
            throw new IllegalArgumentException("--lora-rank is counted for dense models only; " + config.source()
                    + " is " + config.architecture().label() + " with "
                    + (config.mla() != null ? "latent attention" : "experts"));
        }
        this.embedding = new Weight("embed_tokens", Kind.EMBEDDING, 1, m.vocabSize(), m.hiddenSize(),
                vocabRowsPerRank, m.hiddenSize(), 1, 1);
        this.lmHead = new Weight("lm_head", Kind.LM_HEAD, 1, m.vocabSize(), m.hiddenSize(), vocabRowsPerRank,
                m.hiddenSize(), 1, 1);
        // The MLP-only demo model has no norms (docs/contract.md section 13).
        this.finalNorm = Weight.replicated("norm", Kind.NORM, 1, m.hasAttention() ? m.hiddenSize() : 0, 1);
        List<List<Weight>> all = new ArrayList<>();
        for (int i = 0; i < m.numHiddenLayers(); i++) {
            all.add(List.copyOf(buildLayer(i)));
        }
        this.layers = List.copyOf(all);
        this.layerParamsPerRank = layers.stream().mapToLong(l -> sum(l, Weight::paramsPerRank)).toArray();
        this.layerBytesPerRank = layers.stream().mapToLong(l -> sum(l, x -> x.bytesPerRank(format))).toArray();
        // The whole model: a tied LM head is the embedding and counts once.
        boolean tied = m.tieWordEmbeddings();
        long params = Math.addExact(embedding.params(), finalNorm.params());
        long bytes = Math.addExact(embedding.bytes(format), finalNorm.bytes(format));
        if (!tied) {
            params = Math.addExact(params, lmHead.params());
            bytes = Math.addExact(bytes, lmHead.bytes(format));
        }
        for (List<Weight> layer : layers) {
            params = Math.addExact(params, sum(layer, Weight::params));
            bytes = Math.addExact(bytes, sum(layer, x -> x.bytes(format)));
        }
        this.totalParams = params;
        this.totalBytes = bytes;
    }

    /**
     * The count of {@code config} under tensor parallelism {@code tp}, the embedding and LM head holding
     * {@code vocabRowsPerRank} rows per rank, with LoRA of rank {@code loraRank} (0 for none; dense models only),
     * stored in {@code format}.
     *
     * @param config the model's configuration, architecture included
     * @param tp the tensor-parallel size
     * @param vocabRowsPerRank the vocabulary rows the embedding and head hold on one rank ({@code valid(0)})
     * @param loraRank LoRA rank {@code R}, 0 for none
     * @param format the dtype and fp8 blocks the parameters are stored in
     * @return the count
     * @throws IllegalArgumentException naming the key when {@code tp} does not divide a split dimension, LoRA is
     *                                  asked of a MoE or MLA model, or the count overflows 64 bits
     */
    public static ParamCount of(ArchitectureConfig config, int tp, long vocabRowsPerRank, int loraRank,
                                WeightFormat format) {
        try {
            return new ParamCount(config, tp, vocabRowsPerRank, loraRank, format);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(config.source() + ": the parameter count overflows 64 bits");
        }
    }

    private void checkDivisibility() {
        ModelConfig m = config.base();
        requireDivides(m.hiddenSize(), "hidden_size");
        boolean denseMlp = false;
        for (int i = 0; i < m.numHiddenLayers() && !denseMlp; i++) {
            denseMlp = config.moe() == null || !config.moe().isMoeLayer(i);
        }
        if (denseMlp) {
            requireDivides(m.intermediateSize(), "intermediate_size");
        }
        if (config.hasMoeLayers()) {
            MoeConfig moe = config.moe();
            requireDivides(moe.expertIntermediate(), switch (config.architecture()) {
                case MIXTRAL -> "intermediate_size";
                default -> "moe_intermediate_size";
            });
            if (config.architecture() == Architecture.QWEN2_MOE) {
                requireDivides(moe.sharedIntermediate(), "shared_expert_intermediate_size");
            } // DeepSeek's is n_shared_experts times moe_intermediate_size
        }
        if (m.hasAttention()) {
            requireDivides(m.numAttentionHeads(), "num_attention_heads");
            if (config.mla() == null) {
                int kv = m.numKeyValueHeads();
                if (kv >= tp) {
                    requireDivides(kv, "num_key_value_heads");
                } else if (tp % kv != 0) {
                    throw new IllegalArgumentException("tp " + tp + " is not a multiple of num_key_value_heads " + kv
                            + " (fewer KV heads than ranks are replicated, one per rank)");
                }
            }
        }
    }

    private void requireDivides(long value, String key) {
        if (value % tp != 0) {
            throw new IllegalArgumentException("tp " + tp + " does not divide " + key + " " + value);
        }
    }

    private List<Weight> buildLayer(int index) {
        ModelConfig m = config.base();
        List<Weight> w = new ArrayList<>();
        long h = m.hiddenSize();
        if (m.hasAttention()) {
            if (config.mla() != null) {
                latentAttention(w, config.mla());
            } else {
                groupedQueryAttention(w);
            }
            w.add(Weight.replicated("input_layernorm", Kind.NORM, 1, h, 1));
            w.add(Weight.replicated("post_attention_layernorm", Kind.NORM, 1, h, 1));
        }
        MoeConfig moe = config.moe();
        if (moe != null && moe.isMoeLayer(index)) {
            experts(w, moe);
        } else {
            mlp(w, "mlp", 1, m.intermediateSize(), config.mlpBias());
        }
        if (loraRank > 0) {
            for (Weight target : List.copyOf(w)) {
                if (target.kind() == Kind.LINEAR) {
                    lora(w, target);
                }
            }
        }
        return w;
    }

    private void groupedQueryAttention(List<Weight> w) {
        ModelConfig m = config.base();
        long h = m.hiddenSize();
        long q = Math.multiplyExact((long) m.numAttentionHeads(), m.headDim());
        w.add(Weight.column("q_proj", Kind.LINEAR, 1, q, h, tp));
        w.add(Weight.kvHeads("k_proj", Kind.LINEAR, m.numKeyValueHeads(), m.headDim(), h, tp));
        w.add(Weight.kvHeads("v_proj", Kind.LINEAR, m.numKeyValueHeads(), m.headDim(), h, tp));
        w.add(Weight.row("o_proj", Kind.LINEAR, 1, h, q, tp));
        if (config.qkvBias()) {
            w.add(Weight.column("q_proj.bias", Kind.BIAS, 1, q, 1, tp));
            w.add(Weight.kvHeads("k_proj.bias", Kind.BIAS, m.numKeyValueHeads(), m.headDim(), 1, tp));
            w.add(Weight.kvHeads("v_proj.bias", Kind.BIAS, m.numKeyValueHeads(), m.headDim(), 1, tp));
        }
        if (config.oBias()) {
            w.add(Weight.replicated("o_proj.bias", Kind.BIAS, 1, h, 1)); // added once, after the all-reduce
        }
        if (config.architecture().qkNorm()) {
            w.add(Weight.replicated("q_norm", Kind.NORM, 1, m.headDim(), 1));
            w.add(Weight.replicated("k_norm", Kind.NORM, 1, m.headDim(), 1));
        }
    }

    private void latentAttention(List<Weight> w, MlaConfig mla) {
        ModelConfig m = config.base();
        long h = m.hiddenSize();
        long heads = m.numAttentionHeads();
        long q = Math.multiplyExact(heads, mla.qkHeadDim());
        if (mla.lowRankQ()) {
            w.add(Weight.replicated("q_a_proj", Kind.LINEAR, 1, mla.qLoraRank(), h));
            if (config.qkvBias()) {
                w.add(Weight.replicated("q_a_proj.bias", Kind.BIAS, 1, mla.qLoraRank(), 1));
            }
            w.add(Weight.replicated("q_a_layernorm", Kind.NORM, 1, mla.qLoraRank(), 1));
            w.add(Weight.column("q_b_proj", Kind.LINEAR, 1, q, mla.qLoraRank(), tp));
        } else {
            w.add(Weight.column("q_proj", Kind.LINEAR, 1, q, h, tp));
        }
        long kvA = Math.addExact(mla.kvLoraRank(), mla.qkRopeHeadDim());
        w.add(Weight.replicated("kv_a_proj_with_mqa", Kind.LINEAR, 1, kvA, h));
        if (config.qkvBias()) {
            w.add(Weight.replicated("kv_a_proj_with_mqa.bias", Kind.BIAS, 1, kvA, 1));
        }
        w.add(Weight.replicated("kv_a_layernorm", Kind.NORM, 1, mla.kvLoraRank(), 1));
        w.add(Weight.column("kv_b_proj", Kind.LINEAR, 1,
                Math.multiplyExact(heads, Math.addExact(mla.qkNopeHeadDim(), mla.vHeadDim())), mla.kvLoraRank(), tp));
        w.add(Weight.row("o_proj", Kind.LINEAR, 1, h, Math.multiplyExact(heads, mla.vHeadDim()), tp));
        if (config.oBias()) {
            w.add(Weight.replicated("o_proj.bias", Kind.BIAS, 1, h, 1));
        }
    }

    /** A SwiGLU MLP (or {@code count} experts): gate and up column-parallel, down row-parallel. */
    private void mlp(List<Weight> w, String prefix, long count, long intermediate, boolean bias) {
        long h = config.base().hiddenSize();
        w.add(Weight.column(prefix + ".gate_proj", Kind.LINEAR, count, intermediate, h, tp));
        w.add(Weight.column(prefix + ".up_proj", Kind.LINEAR, count, intermediate, h, tp));
        w.add(Weight.row(prefix + ".down_proj", Kind.LINEAR, count, h, intermediate, tp));
        if (bias) {
            w.add(Weight.column(prefix + ".gate_proj.bias", Kind.BIAS, count, intermediate, 1, tp));
            w.add(Weight.column(prefix + ".up_proj.bias", Kind.BIAS, count, intermediate, 1, tp));
            w.add(Weight.replicated(prefix + ".down_proj.bias", Kind.BIAS, count, h, 1));
        }
    }

    private void experts(List<Weight> w, MoeConfig moe) {
        long h = config.base().hiddenSize();
        w.add(Weight.replicated("mlp.gate", Kind.ROUTER, 1, moe.experts(), h));
        if (moe.routerBias()) {
            w.add(Weight.replicated("mlp.gate.e_score_correction_bias", Kind.ROUTER, 1, moe.experts(), 1));
        }
        mlp(w, "mlp.experts", moe.experts(), moe.expertIntermediate(), false);
        if (moe.sharedIntermediate() > 0) {
            mlp(w, "mlp.shared_experts", 1, moe.sharedIntermediate(), config.mlpBias());
        }
        if (moe.sharedExpertGate()) {
            w.add(Weight.replicated("mlp.shared_expert_gate", Kind.ROUTER, 1, 1, h));
        }
    }

    /**
     * LoRA on {@code target} [N, K] (the contract,
     * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#8-lora-under-tensor-parallelism">section 8</a>):
     * on a column-parallel (or replicated) layer A [R, K] is whole and B [N, R] splits like the layer's rows; on a
     * row-parallel layer A [R, K] splits its columns and B [N, R] is whole.
     */
    private void lora(List<Weight> w, Weight target) {
        long r = loraRank;
        String name = target.name();
        if (target.colParts() > 1) {
            w.add(new Weight(name + ".lora_A", Kind.LORA, 1, r, target.cols(), r, target.rankCols(), 1,
                    target.colParts()));
            w.add(Weight.replicated(name + ".lora_B", Kind.LORA, 1, target.rows(), r));
        } else {
            w.add(Weight.replicated(name + ".lora_A", Kind.LORA, 1, r, target.cols()));
            w.add(new Weight(name + ".lora_B", Kind.LORA, 1, target.rows(), r, target.rankRows(), r,
                    target.rowParts(), 1));
        }
    }

    /**
     * The configuration counted.
     *
     * @return the configuration
     */
    public ArchitectureConfig config() {
        return config;
    }

    /**
     * The format the bytes are counted in.
     *
     * @return the weight format
     */
    public WeightFormat format() {
        return format;
    }

    /**
     * The embedding, on stage 0.
     *
     * @return the embedding's weight
     */
    public Weight embedding() {
        return embedding;
    }

    /**
     * The weights of every layer, in order.
     *
     * @return one list of weights per layer, unmodifiable
     */
    public List<List<Weight>> layers() {
        return layers;
    }

    /**
     * The final norm, on the last stage (no parameters in the MLP-only demo model).
     *
     * @return the final norm's weight
     */
    public Weight finalNorm() {
        return finalNorm;
    }

    /**
     * The LM head's weight, on the last stage unless tied to the embedding on the same stage.
     *
     * @return the LM head's weight
     */
    public Weight lmHead() {
        return lmHead;
    }

    /**
     * Parameters of layer {@code index} one rank holds.
     *
     * @param index the layer's index
     * @return the count
     * @throws ArrayIndexOutOfBoundsException when {@code index} is out of range
     */
    public long layerParamsPerRank(int index) {
        return layerParamsPerRank[index];
    }

    /**
     * Bytes of layer {@code index} one rank holds.
     *
     * @param index the layer's index
     * @return the bytes
     * @throws ArrayIndexOutOfBoundsException when {@code index} is out of range
     */
    public long layerBytesPerRank(int index) {
        return layerBytesPerRank[index];
    }

    /**
     * Parameters one rank holds, layer by layer.
     *
     * @return one count per layer, a copy
     */
    public long[] layerParamsPerRank() {
        return layerParamsPerRank.clone();
    }

    /**
     * Bytes one rank holds, layer by layer.
     *
     * @return one count per layer, a copy
     */
    public long[] layerBytesPerRank() {
        return layerBytesPerRank.clone();
    }

    /**
     * Parameters of the whole model, unsharded (LoRA factors included when asked for): a tied head counts once.
     *
     * @return the count
     */
    public long totalParams() {
        return totalParams;
    }

    /**
     * Bytes of the whole model, unsharded, in {@link #format()}: a tied head counts once.
     *
     * @return the bytes
     */
    public long totalBytes() {
        return totalBytes;
    }

    /**
     * The sum of {@code size} over {@code weights}.
     *
     * @param weights the weights
     * @param size what to add up of each
     * @return the sum
     * @throws ArithmeticException when the sum overflows a {@code long}
     */
    public static long sum(List<Weight> weights, java.util.function.ToLongFunction<Weight> size) {
        long sum = 0;
        for (Weight w : weights) {
            sum = Math.addExact(sum, size.applyAsLong(w));
        }
        return sum;
    }
}
