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
        public Options {
            Objects.requireNonNull(forward, "forward");
            Objects.requireNonNull(optimizer, "optimizer");
        }
    }

    /** Hears each step as it ends (on one thread): its number from 1, its loss before the update, the norm. */
    @FunctionalInterface
    public interface Steps {
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
     * @throws IllegalArgumentException naming the offending value, before any rank starts
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
