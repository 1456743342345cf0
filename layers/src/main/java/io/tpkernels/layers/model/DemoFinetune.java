package io.tpkernels.layers.model;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.layers.config.AdapterConfig.ModuleLora;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.train.AdamWConfig;
import io.tpkernels.shard.PipelinePartition;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Fine-tunes the demo model's LoRA adapter on {@code tp·pp} ranks of this process (threads with a {@link LocalGroup}
 * mesh), as {@code tpk finetune} does: every rank loads its shards, {@link StageTrainer} runs the steps, and the
 * trained adapter is exported as PEFT writes one ({@link AdapterExport}).
 */
public final class DemoFinetune {
    private DemoFinetune() {
    }

    /**
     * How to train.
     *
     * @param forward      the layout, devices, precision and timeout, as a forward's
     * @param optimizer    AdamW's learning rate, betas, epsilon and weight decay
     * @param clipNorm     the maximum global gradient norm, 0 for none
     * @param microBatches how many micro-batches a step's rows are split into (a divisor of the rows)
     */
    public record Options(DemoForward.Options forward, AdamWConfig optimizer, double clipNorm, int microBatches) {
        /**
         * Checks that no part is {@code null}; the sizes are checked by {@link DemoFinetune#run}.
         *
         * @param forward the layout, devices, precision and timeout
         * @param optimizer AdamW's hyperparameters
         * @param clipNorm the maximum global gradient norm, 0 for none
         * @param microBatches how many micro-batches a step's rows are split into
         * @throws NullPointerException when {@code forward} or {@code optimizer} is {@code null}
         */
        public Options {
            Objects.requireNonNull(forward, "forward");
            Objects.requireNonNull(optimizer, "optimizer");
        }
    }

    /** Hears each step as it ends (on one thread): its number from 1, its loss before the update, the norm. */
    @FunctionalInterface
    public interface Steps {
        /**
         * Called once per step, on the last stage's first rank's thread.
         *
         * @param step the step's number, from 1
         * @param loss the step's loss, before its update
         * @param gradNorm the global gradient norm, before clipping
         */
        void step(int step, double loss, double gradNorm);
    }

    /**
     * What the run gave.
     *
     * @param losses    each step's loss, before its update
     * @param gradNorms each step's global gradient norm, before clipping
     * @param tokens    the tokens trained on ({@code steps·B·T})
     * @param elapsed   wall time of loading, training and exporting
     */
    public record Result(double[] losses, double[] gradNorms, long tokens, Duration elapsed) {
    }

    /**
     * Trains {@code steps} steps on {@code data} from {@code adapters} and, when {@code out} is not null, writes the
     * trained adapter there (a new folder, all or nothing).
     *
     * @param modules the modules that carry LoRA, with rank and alpha (what the export writes)
     * @param config the model's sizes
     * @param model the model's weights, shared by every rank (not closed here)
     * @param adapters where each projection's initial {@code A} and {@code B} come from
     * @param data the token batches
     * @param steps how many steps, at least 1
     * @param options the layout, optimizer, clipping and micro-batches
     * @param listener hears each step
     * @param out the adapter folder to create, or {@code null} for none
     * @return the losses and norms of every step
     * @throws IllegalArgumentException naming the offending value, before any rank starts
     * @throws io.tpkernels.layers.weights.WeightException when a tensor is missing, of another shape or not float
     * @throws io.tpkernels.layers.checkpoint.CheckpointException when the adapter folder exists or cannot be written
     * @throws io.tpkernels.collective.CollectiveException when a rank fails or times out
     */
    public static Result run(ModelConfig config, WeightSource model, LoraAdapters adapters, List<ModuleLora> modules,
                             TokenBatches data, int steps, Options options, Steps listener, Path out) {
        DemoForward.Options f = options.forward();
        DemoForward.validate(config, new long[] {0}, f);
        if (steps < 1) {
            throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
        }
        if (options.microBatches() < 1 || data.rows() % options.microBatches() != 0) {
            throw new IllegalArgumentException("--micro-batches " + options.microBatches() + " must divide --batch "
                    + data.rows());
        }
        long started = System.nanoTime();
        PipelinePartition partition = PipelinePartition.balanced(config.numHiddenLayers(), f.pp(),
                PipelinePartition.Remainder.FIRST);
        double[] losses = new double[steps];
        double[] norms = new double[steps];
        LocalGroup.runMesh(f.tp(), f.pp(), f.timeout(), mesh -> {
            var spec = new PipelineStage.Spec(config, partition, f.deviceOf(mesh.stage()), f.precision(),
                    f.vocabMultiple());
            boolean reports = mesh.stage() == f.pp() - 1 && mesh.tpRank() == 0;
            try (PipelineStage stage = PipelineStage.load(model, spec, mesh, adapters, layer -> { });
                 StageTrainer trainer = new StageTrainer(stage, options.optimizer(), options.clipNorm())) {
                for (int k = 0; k < steps; k++) {
                    StageTrainer.Step s = trainer.step(data.inputs(k), data.targets(k), data.rows(),
                            options.microBatches());
                    if (reports) {
                        losses[k] = s.loss();
                        norms[k] = s.gradNorm();
                        listener.step(k + 1, s.loss(), s.gradNorm());
                    }
                }
                if (out != null) {
                    AdapterExport.export(stage, modules, out);
                }
            }
            return null;
        });
        return new Result(losses, norms, (long) steps * data.rows() * data.seqLen(),
                Duration.ofNanos(System.nanoTime() - started));
    }
}
