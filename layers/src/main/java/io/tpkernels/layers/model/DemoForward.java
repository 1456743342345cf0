package io.tpkernels.layers.model;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.layers.Precision;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.PipelinePartition;
import io.tpkernels.shard.ShardRange;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntUnaryOperator;

/**
 * One forward pass of the demo model on {@code tp·pp} ranks of this process (threads with a
 * {@link LocalGroup} mesh): every rank loads its shards from one shared weight source, the ids go through the
 * pipeline, and the last stage's result comes back. What {@code tpk forward} runs.
 */
public final class DemoForward {
    private DemoForward() {
    }

    /**
     * How to run it.
     *
     * @param tp            tensor-parallel size
     * @param pp            pipeline stages
     * @param devices       the device of each stage's ranks (a stage's tp group shares one device)
     * @param precision     weights' and activations' float type
     * @param vocabMultiple the vocab padding multiple m of the contract,
     *     <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#2-vocabulary-padding">section 2</a>
     * @param argmax        whether to return greedy token ids instead of logits
     * @param timeout       the collectives' timeout
     */
    public record Options(int tp, int pp, IntUnaryOperator devices, Precision precision, int vocabMultiple,
                          boolean argmax, Duration timeout) {
        /**
         * Checks that no part is {@code null}; the sizes are checked by {@link DemoForward#run}.
         *
         * @param tp tensor-parallel size
         * @param pp pipeline stages
         * @param devices the device ordinal of each stage's ranks, negative for the CPU
         * @param precision weights' and activations' float type
         * @param vocabMultiple the vocab padding multiple
         * @param argmax whether to return greedy token ids
         * @param timeout the collectives' timeout
         * @throws NullPointerException when {@code devices}, {@code precision} or {@code timeout} is {@code null}
         */
        public Options {
            Objects.requireNonNull(devices, "devices");
            Objects.requireNonNull(precision, "precision");
            Objects.requireNonNull(timeout, "timeout");
        }

        /** The device of {@code stage}'s ranks: {@code cuda(devices(stage))}, or the CPU for a negative ordinal. */
        Device deviceOf(int stage) {
            int ordinal = devices.applyAsInt(stage);
            return ordinal < 0 ? Device.CPU : Device.cuda(ordinal);
        }
    }

    /** Hears the loading progress: layers loaded so far over all layers of all ranks. */
    @FunctionalInterface
    public interface Progress {
        /**
         * Called on the rank threads as layers load; it must be thread-safe.
         *
         * @param done layers loaded so far, over all ranks
         * @param total layers to load, over all ranks
         */
        void loaded(int done, int total);
    }

    /**
     * What came back.
     *
     * @param logits  {@code [T, V]} F32 logits on the host (owned by the caller), or {@code null} with argmax
     * @param tokens  greedy ids {@code [T]}, or {@code null} without argmax
     * @param ranks   ranks that ran ({@code tp·pp})
     * @param elapsed wall time of loading and running
     */
    public record Result(Tensor logits, long[] tokens, int ranks, Duration elapsed) implements AutoCloseable {
        @Override
        public void close() {
            if (logits != null) {
                logits.close();
            }
        }
    }

    /**
     * Checks everything that can be checked before any rank starts (ids in range, tp dividing the sharded
     * dimensions, enough layers for the stages), then runs.
     *
     * @param config the model's sizes
     * @param model the model's weights, shared by every rank (not closed here)
     * @param adapters the LoRA adapters of the projections, or {@link LoraAdapters#NONE}
     * @param ids the token ids, each in {@code [0, vocab_size)}
     * @param options the layout, devices, precision and timeout
     * @param progress hears the loading progress
     * @return the logits or the token ids, owned by the caller
     * @throws IllegalArgumentException naming the offending value
     * @throws io.tpkernels.layers.weights.WeightException when a tensor is missing, of another shape or not float
     * @throws io.tpkernels.collective.CollectiveException when a rank fails or times out
     */
    public static Result run(ModelConfig config, WeightSource model, LoraAdapters adapters, long[] ids, Options options,
                             Progress progress) {
        validate(config, ids, options);
        long started = System.nanoTime();
        PipelinePartition partition = PipelinePartition.balanced(config.numHiddenLayers(), options.pp(),
                PipelinePartition.Remainder.FIRST);
        int totalLoads = config.numHiddenLayers() * options.tp();
        AtomicInteger loaded = new AtomicInteger();
        record RankOut(Tensor logits, long[] tokens) {
        }
        List<RankOut> results = LocalGroup.runMesh(options.tp(), options.pp(), options.timeout(), mesh -> {
            var spec = new PipelineStage.Spec(config, partition, options.deviceOf(mesh.stage()), options.precision(),
                    options.vocabMultiple());
            try (PipelineStage stage = PipelineStage.load(model, spec, mesh, adapters,
                    layer -> progress.loaded(loaded.incrementAndGet(), totalLoads));
                 Tensor idt = Tensor.ofLongs(DType.I64, ids, ids.length)) {
                if (options.argmax()) {
                    return new RankOut(null, stage.argmax(idt));
                }
                try (Tensor logits = stage.logits(idt)) {
                    // Only the last stage's first rank hands its copy back; the others' are identical.
                    boolean keep = logits != null && mesh.tpRank() == 0;
                    return new RankOut(keep ? logits.copyTo(Device.CPU) : null, null);
                }
            }
        });
        RankOut last = results.get((options.pp() - 1) * options.tp());
        return new Result(last.logits(), last.tokens(), options.tp() * options.pp(),
                Duration.ofNanos(System.nanoTime() - started));
    }

    /**
     * The tensors of {@code model} that the demo model of {@code config} does not read, in the source's order: the
     * extra layers of a checkpoint with more layers than {@code num_hidden_layers}, say, or weights of a module the
     * demo model does not have. Loading ignores them, as Hugging Face's loader does; like it, a caller should say so
     * ({@code tpk forward} warns once). The LM head of a model with tied embeddings counts as read, as there.
     *
     * @param config the model's sizes
     * @param model the model's weights
     * @return the names of the tensors no layer reads, in the source's order
     */
    public static List<String> unusedTensors(ModelConfig config, WeightSource model) {
        Set<String> read = new HashSet<>();
        read.add(DemoModelNames.EMBED);
        read.add(DemoModelNames.LM_HEAD);
        for (int layer = 0; layer < config.numHiddenLayers(); layer++) {
            for (DemoModelNames.Projection p : DemoModelNames.Projection.values()) {
                read.add(DemoModelNames.weight(layer, p));
            }
        }
        List<String> unused = new ArrayList<>();
        for (String name : model.names()) {
            if (!read.contains(name)) {
                unused.add(name);
            }
        }
        return unused;
    }

    static void validate(ModelConfig config, long[] ids, Options options) {
        if (ids.length == 0) {
            throw new IllegalArgumentException("no token ids were given");
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + ids[i] + " at position " + i + " is outside [0, "
                        + config.vocabSize() + ") (vocab_size)");
            }
        }
        if (options.tp() < 1 || options.pp() < 1) {
            throw new IllegalArgumentException("tp and pp must be at least 1, got tp " + options.tp() + " and pp "
                    + options.pp());
        }
        ShardRange.of("hidden_size", config.hiddenSize(), options.tp(), 0);
        ShardRange.of("intermediate_size", config.intermediateSize(), options.tp(), 0);
        if (config.numHiddenLayers() < options.pp()) {
            throw new IllegalArgumentException("pp " + options.pp() + " is more than the model's "
                    + config.numHiddenLayers() + " layers (num_hidden_layers)");
        }
        if (config.hasAttention()) {
            throw new IllegalArgumentException("this config has attention (num_attention_heads); forward runs only the "
                    + "MLP-stack demo model of docs/contract.md section 13");
        }
    }
}
