package io.tpkernels.layers.plan;

import io.tpkernels.layers.config.ArchitectureConfig;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.config.WeightFormat;
import io.tpkernels.runtime.DType;
import io.tpkernels.shard.MemoryBalancedPartition;
import io.tpkernels.shard.PipelinePartition;
import io.tpkernels.shard.VocabShard;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Where a decoder's parameters live under tensor parallelism {@code tp} and pipeline parallelism {@code pp}: the vocab
 * shard of each TP rank, the layer range of each stage, and the parameters and bytes one rank of each stage holds,
 * counted as {@link ParamCount} says (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#11-pipeline-partition-and-the-parallel-plan">section 11</a>:
 * GQA, MLA, experts, biases, fp8 blocks). The embedding (stage 0) and the LM head (last stage) hold the valid rows of
 * their vocab shard, padding rows being virtual; a tied LM head shares the embedding's shard when both are on one
 * stage. LoRA adds {@code A} and {@code B} per projection, replicated or sharded as
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#8-lora-under-tensor-parallelism">section 8</a>
 * says. Per-rank figures are for the largest rank (rank 0, which holds the most vocab rows). Memory balancing weighs
 * layers by their bytes.
 */
public final class ParallelPlan {

    /** How layers are placed on stages when no explicit partition is given. */
    public enum Balance {
        /** {@link PipelinePartition#balanced}: equal layer counts, the remainder by the {@link PipelinePartition.Remainder} rule. */
        LAYERS,
        /**
         * {@link MemoryBalancedPartition}: the smallest possible largest stage in bytes, counting embedding and LM
         * head, then the least lopsided split among those.
         */
        MEMORY
    }

    /**
     * The plan's inputs.
     *
     * @param tp          tensor-parallel size
     * @param pp          pipeline stages
     * @param padMultiple the vocab padding multiple {@code m}
     * @param remainder   where extra layers go under {@link Balance#LAYERS}
     * @param partition   an explicit split {@code "a,b,…"}, or {@code null}
     * @param balance     the placement rule when {@code partition} is {@code null}
     * @param dtype       the unquantized parameters' dtype (F32, F16 or BF16), or {@code null} for the config's
     *                    {@code torch_dtype} (BF16 when it gives none)
     * @param loraRank    LoRA rank {@code R}, 0 for none
     */
    public record Options(int tp, int pp, int padMultiple, PipelinePartition.Remainder remainder, String partition,
                          Balance balance, DType dtype, int loraRank) {
        /**
         * Checks the options.
         *
         * @param tp tensor-parallel size, at least 1
         * @param pp pipeline stages, at least 1
         * @param padMultiple the vocab padding multiple {@code m}
         * @param remainder where extra layers go under {@link Balance#LAYERS}
         * @param partition an explicit split, or {@code null}
         * @param balance the placement rule
         * @param dtype F32, F16 or BF16, or {@code null}
         * @param loraRank LoRA rank, {@code >= 0}
         * @throws IllegalArgumentException when {@code tp} or {@code pp} is below 1, the dtype is an integer one, the
         *     LoRA rank is negative, or both an explicit partition and memory balancing are given
         */
        public Options {
            if (tp < 1 || pp < 1) {
                throw new IllegalArgumentException("tp and pp must be >= 1, got tp " + tp + ", pp " + pp);
            }
            if (dtype != null && !dtype.isFloatingPoint()) {
                throw new IllegalArgumentException("parameters are F32, F16 or BF16, not " + dtype);
            }
            if (loraRank < 0) {
                throw new IllegalArgumentException("LoRA rank must be >= 0, got " + loraRank);
            }
            if (partition != null && balance == Balance.MEMORY) {
                throw new IllegalArgumentException("give either an explicit partition or memory balancing, not both");
            }
        }
    }

    /**
     * One pipeline stage as one of its TP ranks sees it.
     *
     * @param stage          the stage index
     * @param firstLayer     its first layer
     * @param endLayer       one past its last layer
     * @param layers         {@code endLayer − firstLayer}
     * @param embedding      whether it holds the embedding (stage 0)
     * @param lmHead         whether it holds the LM head and final norm (the last stage)
     * @param paramsPerRank  parameters one rank holds
     * @param bytesPerRank   their bytes in the plan's format
     */
    public record Stage(int stage, int firstLayer, int endLayer, int layers, boolean embedding, boolean lmHead,
                        long paramsPerRank, long bytesPerRank) {
    }

    private final ArchitectureConfig config;
    private final Options options;
    private final WeightFormat format;
    private final List<VocabShard> vocabShards;
    private final ParamCount count;
    private final long embeddingParams;
    private final long embeddingBytes;
    private final long lmHeadParams;
    private final long lmHeadBytes;
    private final PipelinePartition partition;
    private final List<Stage> stages;
    private final long layerBalancedMaxBytes;
    private final List<String> notes;

    private ParallelPlan(ArchitectureConfig config, Options options) {
        this.config = config;
        this.options = options;
        ModelConfig m = config.base();
        int tp = options.tp();
        DType dtype = options.dtype() != null ? options.dtype() : config.dtype() != null ? config.dtype() : DType.BF16;
        this.format = new WeightFormat(dtype, config.fp8());
        this.vocabShards = IntStream.range(0, tp)
                .mapToObj(r -> VocabShard.of(m.vocabSize(), tp, r, options.padMultiple())).toList();
        long vocabRows = vocabShards.get(0).validRows(); // rank 0 holds the most real rows
        this.count = ParamCount.of(config, tp, vocabRows, options.loraRank(), format);
        this.embeddingParams = count.embedding().paramsPerRank();
        this.embeddingBytes = count.embedding().bytesPerRank(format);
        boolean headSharesEmbedding = m.tieWordEmbeddings() && options.pp() == 1;
        Weight head = count.lmHead();
        Weight norm = count.finalNorm();
        this.lmHeadParams = norm.paramsPerRank() + (headSharesEmbedding ? 0 : head.paramsPerRank());
        this.lmHeadBytes = norm.bytesPerRank(format) + (headSharesEmbedding ? 0 : head.bytesPerRank(format));

        long[] layerParams = count.layerParamsPerRank();
        long[] layerBytes = count.layerBytesPerRank();
        PipelinePartition byLayers = PipelinePartition.balanced(m.numHiddenLayers(), options.pp(), options.remainder());
        if (options.partition() != null) {
            this.partition = PipelinePartition.parse(options.partition(), m.numHiddenLayers(), options.pp());
        } else if (options.balance() == Balance.MEMORY) {
            this.partition = MemoryBalancedPartition.split(layerBytes, options.pp(), embeddingBytes, lmHeadBytes);
        } else {
            this.partition = byLayers;
        }
        this.layerBalancedMaxBytes = Arrays.stream(
                MemoryBalancedPartition.stageBytes(byLayers, layerBytes, embeddingBytes, lmHeadBytes)).max().orElseThrow();
        long[] params = MemoryBalancedPartition.stageBytes(partition, layerParams, embeddingParams, lmHeadParams);
        long[] bytes = MemoryBalancedPartition.stageBytes(partition, layerBytes, embeddingBytes, lmHeadBytes);
        List<Stage> out = new ArrayList<>();
        for (int s = 0; s < partition.stages(); s++) {
            out.add(new Stage(s, partition.start(s), partition.end(s), partition.layers(s), s == 0,
                    s == partition.stages() - 1, params[s], bytes[s]));
        }
        this.stages = List.copyOf(out);
        List<String> said = new ArrayList<>();
        if (config.mtpLayers() > 0) {
            said.add("multi-token-prediction layers (num_nextn_predict_layers " + config.mtpLayers()
                    + ") are not counted: they are not part of the model transformers instantiates");
        }
        this.notes = List.copyOf(said);
    }

    /**
     * The plan for {@code config} under {@code options}; argument errors name the values.
     *
     * @param config the model's configuration, architecture included
     * @param options the layout and the counting choices
     * @return the plan
     * @throws IllegalArgumentException naming the key or value when {@code tp} does not divide a split dimension, the
     *     partition is malformed or does not fit the layers, {@code pp} exceeds the layers, the vocabulary or padding
     *     multiple is out of range, LoRA is asked of a MoE or MLA model, or a count overflows 64 bits
     */
    public static ParallelPlan of(ArchitectureConfig config, Options options) {
        return new ParallelPlan(config, options);
    }

    /**
     * The plan for the LLaMA-style decoder {@code config} (no architecture named) under {@code options}.
     *
     * @param config the sizes of a LLaMA-style decoder
     * @param options the layout and the counting choices
     * @return the plan
     * @throws IllegalArgumentException as {@link #of(ArchitectureConfig, Options)}
     */
    public static ParallelPlan of(ModelConfig config, Options options) {
        return of(ArchitectureConfig.of(config), options);
    }

    /**
     * The sizes every architecture has.
     *
     * @return the model's sizes
     */
    public ModelConfig config() {
        return config.base();
    }

    /**
     * The whole config: architecture, biases, MLA, experts, dtype and fp8 blocks.
     *
     * @return the architecture's configuration
     */
    public ArchitectureConfig architecture() {
        return config;
    }


    /**
     * How the bytes are counted: the unquantized dtype and the fp8 blocks, if any.
     *
     * @return the weight format
     */
    public WeightFormat format() {
        return format;
    }

    /**
     * Parameters of the whole model, unsharded (a tied head counts once).
     *
     * @return the count
     */
    public long totalParams() {
        return count.totalParams();
    }

    /**
     * Bytes of the whole model, unsharded, in {@link #format()}.
     *
     * @return the bytes
     */
    public long totalBytes() {
        return count.totalBytes();
    }

    /**
     * What the count leaves out or assumes, one sentence each (multi-token-prediction layers).
     *
     * @return the notes, an unmodifiable list (empty when nothing is left out)
     */
    public List<String> notes() {
        return notes;
    }

    /**
     * The plan's inputs.
     *
     * @return the options it was made with
     */
    public Options options() {
        return options;
    }

    /**
     * The vocab shard of every TP rank.
     *
     * @return one shard per TP rank, in rank order
     */
    public List<VocabShard> vocabShards() {
        return vocabShards;
    }

    /**
     * The layers of each stage.
     *
     * @return the partition
     */
    public PipelinePartition partition() {
        return partition;
    }

    /**
     * Every stage as one of its TP ranks sees it.
     *
     * @return the stages, in order, an unmodifiable list
     */
    public List<Stage> stages() {
        return stages;
    }

    /**
     * Parameters of the first decoder layer on one rank (see {@link #layerParamsPerRank(int)} when layers differ).
     *
     * @return the count
     */
    public long layerParamsPerRank() {
        return count.layerParamsPerRank(0);
    }

    /**
     * Parameters of decoder layer {@code layer} on one rank.
     *
     * @param layer the layer's index, in {@code [0, num_hidden_layers)}
     * @return the count
     * @throws ArrayIndexOutOfBoundsException when {@code layer} is out of range
     */
    public long layerParamsPerRank(int layer) {
        return count.layerParamsPerRank(layer);
    }

    /**
     * Parameters of the embedding shard on one rank of stage 0.
     *
     * @return the count
     */
    public long embeddingParamsPerRank() {
        return embeddingParams;
    }

    /**
     * Parameters of the LM head shard (and final norm) on one rank of the last stage.
     *
     * @return the count
     */
    public long lmHeadParamsPerRank() {
        return lmHeadParams;
    }

    /**
     * Bytes of the embedding shard on one rank of stage 0.
     *
     * @return the bytes
     */
    public long embeddingBytesPerRank() {
        return embeddingBytes;
    }

    /**
     * Bytes of the LM head shard (and final norm) on one rank of the last stage.
     *
     * @return the bytes
     */
    public long lmHeadBytesPerRank() {
        return lmHeadBytes;
    }

    /**
     * The largest stage's bytes per rank.
     *
     * @return the bytes
     */
    public long maxStageBytes() {
        return stages.stream().mapToLong(Stage::bytesPerRank).max().orElseThrow();
    }

    /**
     * The largest stage's bytes per rank had the layers been split by count ({@link Balance#LAYERS}).
     *
     * @return the bytes
     */
    public long layerBalancedMaxStageBytes() {
        return layerBalancedMaxBytes;
    }

    /**
     * Largest over smallest stage bytes: 1.0 is perfect balance.
     *
     * @return the ratio, {@code >= 1}; infinite when a stage holds no bytes
     */
    public double imbalance() {
        long min = stages.stream().mapToLong(Stage::bytesPerRank).min().orElseThrow();
        return min == 0 ? Double.POSITIVE_INFINITY : (double) maxStageBytes() / min;
    }
}
