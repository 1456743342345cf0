package io.tpkernels.layers.plan;

import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.shard.MemoryBalancedPartition;
import io.tpkernels.shard.PipelinePartition;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.tensor.DType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Where a LLaMA-style decoder's parameters live under tensor parallelism {@code tp} and pipeline parallelism
 * {@code pp}: the vocab shard of each TP rank, the layer range of each stage, and the parameters and bytes one
 * rank of each stage holds. Counts follow SEMANTICS.md: column-parallel projections (q, k, v, gate, up) and
 * row-parallel ones (o, down) hold {@code 1/tp} of their weight; norms are replicated; the embedding (stage 0)
 * and the LM head (last stage) hold the valid rows of their vocab shard, padding rows being virtual; a tied
 * LM head shares the embedding's shard when both are on one stage. LoRA adds {@code A} and {@code B} per
 * projection, replicated or sharded as section 6 says. Per-rank figures are for the largest rank (rank 0).
 */
public final class ParallelPlan {

    /** How layers are placed on stages when no explicit partition is given. */
    public enum Balance {
        /** {@link PipelinePartition#balanced}: equal layer counts, the remainder by the {@link PipelinePartition.Remainder} rule. */
        LAYERS,
        /** {@link MemoryBalancedPartition}: the smallest possible largest stage, counting embedding and LM head. */
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
     * @param dtype       the parameters' dtype (F32, F16 or BF16)
     * @param loraRank    LoRA rank {@code R}, 0 for none
     */
    public record Options(int tp, int pp, int padMultiple, PipelinePartition.Remainder remainder, String partition,
                          Balance balance, DType dtype, int loraRank) {
        public Options {
            if (tp < 1 || pp < 1) {
                throw new IllegalArgumentException("tp and pp must be >= 1, got tp " + tp + ", pp " + pp);
            }
            if (!dtype.isFloatingPoint()) {
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
     * @param bytesPerRank   their bytes in the plan's dtype
     */
    public record Stage(int stage, int firstLayer, int endLayer, int layers, boolean embedding, boolean lmHead,
                        long paramsPerRank, long bytesPerRank) {
    }

    private final ModelConfig config;
    private final Options options;
    private final List<VocabShard> vocabShards;
    private final long layerParams;
    private final long embeddingParams;
    private final long lmHeadParams;
    private final PipelinePartition partition;
    private final List<Stage> stages;
    private final long layerBalancedMaxBytes;

    private ParallelPlan(ModelConfig config, Options options) {
        this.config = config;
        this.options = options;
        int tp = options.tp();
        requireDivides(tp, config.hiddenSize(), "hidden_size");
        requireDivides(tp, config.intermediateSize(), "intermediate_size");
        if (config.hasAttention()) {
            requireDivides(tp, config.numAttentionHeads(), "num_attention_heads");
            requireDivides(tp, config.numKeyValueHeads(), "num_key_value_heads");
        }
        this.vocabShards = IntStream.range(0, tp)
                .mapToObj(r -> VocabShard.of(config.vocabSize(), tp, r, options.padMultiple())).toList();
        this.layerParams = layerParams(config, tp, options.loraRank());
        long vocabRows = vocabShards.get(0).validRows(); // rank 0 holds the most real rows
        this.embeddingParams = vocabRows * config.hiddenSize();
        boolean headSharesEmbedding = config.tieWordEmbeddings() && options.pp() == 1;
        long finalNorm = config.hasAttention() ? config.hiddenSize() : 0;
        this.lmHeadParams = (headSharesEmbedding ? 0 : vocabRows * config.hiddenSize()) + finalNorm;

        long[] perLayer = new long[config.numHiddenLayers()];
        Arrays.fill(perLayer, layerParams);
        PipelinePartition byLayers = PipelinePartition.balanced(config.numHiddenLayers(), options.pp(), options.remainder());
        if (options.partition() != null) {
            this.partition = PipelinePartition.parse(options.partition(), config.numHiddenLayers(), options.pp());
        } else if (options.balance() == Balance.MEMORY) {
            this.partition = MemoryBalancedPartition.split(perLayer, options.pp(), embeddingParams, lmHeadParams);
        } else {
            this.partition = byLayers;
        }
        int bytes = options.dtype().byteSize();
        this.layerBalancedMaxBytes = Arrays.stream(
                MemoryBalancedPartition.stageBytes(byLayers, perLayer, embeddingParams, lmHeadParams)).max().orElseThrow()
                * bytes;
        long[] params = MemoryBalancedPartition.stageBytes(partition, perLayer, embeddingParams, lmHeadParams);
        List<Stage> out = new ArrayList<>();
        for (int s = 0; s < partition.stages(); s++) {
            out.add(new Stage(s, partition.start(s), partition.end(s), partition.layers(s), s == 0,
                    s == partition.stages() - 1, params[s], params[s] * bytes));
        }
        this.stages = List.copyOf(out);
    }

    /** The plan for {@code config} under {@code options}; argument errors name the values. */
    public static ParallelPlan of(ModelConfig config, Options options) {
        return new ParallelPlan(config, options);
    }

    private static void requireDivides(int tp, long value, String key) {
        if (value % tp != 0) {
            throw new IllegalArgumentException("tp " + tp + " does not divide " + key + " " + value);
        }
    }

    /** Parameters of one decoder layer held by one TP rank. */
    static long layerParams(ModelConfig c, int tp, int loraRank) {
        long h = c.hiddenSize();
        long i = c.intermediateSize();
        long r = loraRank;
        // MLP: gate and up column-parallel [I, H], down row-parallel [H, I].
        long params = 3 * i * h / tp;
        // LoRA, column-parallel (A [R, K] replicated, B [N/tp, R]) and row-parallel (A [R, K/tp], B [N, R] replicated).
        long lora = 2 * column(r, h, i, tp) + row(r, i, h, tp);
        if (c.hasAttention()) {
            long q = (long) c.numAttentionHeads() * c.headDim();
            long kv = (long) c.numKeyValueHeads() * c.headDim();
            params += (q * h + 2 * kv * h) / tp   // q, k, v column-parallel
                    + h * q / tp                 // o row-parallel
                    + 2 * h;                     // input and post-attention norms, replicated
            lora += column(r, h, q, tp) + 2 * column(r, h, kv, tp) + row(r, q, h, tp);
        }
        return params + (loraRank > 0 ? lora : 0);
    }

    private static long column(long r, long k, long n, int tp) {
        return r * k + n * r / tp;
    }

    private static long row(long r, long k, long n, int tp) {
        return r * k / tp + n * r;
    }

    public ModelConfig config() {
        return config;
    }

    public Options options() {
        return options;
    }

    /** The vocab shard of every TP rank. */
    public List<VocabShard> vocabShards() {
        return vocabShards;
    }

    public PipelinePartition partition() {
        return partition;
    }

    public List<Stage> stages() {
        return stages;
    }

    /** Parameters of one decoder layer on one rank. */
    public long layerParamsPerRank() {
        return layerParams;
    }

    /** Parameters of the embedding shard on one rank of stage 0. */
    public long embeddingParamsPerRank() {
        return embeddingParams;
    }

    /** Parameters of the LM head shard (and final norm) on one rank of the last stage. */
    public long lmHeadParamsPerRank() {
        return lmHeadParams;
    }

    /** The largest stage's bytes per rank. */
    public long maxStageBytes() {
        return stages.stream().mapToLong(Stage::bytesPerRank).max().orElseThrow();
    }

    /** The largest stage's bytes per rank had the layers been split by count ({@link Balance#LAYERS}). */
    public long layerBalancedMaxStageBytes() {
        return layerBalancedMaxBytes;
    }

    /** Largest over smallest stage bytes: 1.0 is perfect balance. */
    public double imbalance() {
        long min = stages.stream().mapToLong(Stage::bytesPerRank).min().orElseThrow();
        return min == 0 ? Double.POSITIVE_INFINITY : (double) maxStageBytes() / min;
    }
}
