package io.tpkernels.layers.model;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.collective.Mesh;
import io.tpkernels.collective.ProcessGroup;
import io.tpkernels.layers.Precision;
import io.tpkernels.layers.checkpoint.SafetensorsCheckpoint;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.PipelinePartition;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.train.AdamWConfig;
import io.tpkernels.train.Parameter;
import io.tpkernels.train.Placement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

/**
 * Fine-tunes the PEFT fixtures' base model (V 37, H 12, I 24, 4 layers) at one tp × pp, as {@link DemoFinetune} does,
 * but keeps what the tests compare: every step's loss and norm, and every rank's replicated parameters after every
 * step. A test may wrap each rank's tensor-parallel group (to inject a known bug) and choose the adapter per rank.
 */
final class TrainingRun {
    static final int SEQ_LEN = 5;
    static final int ROWS = 4;

    /** The layout: sizes, micro-batches, where each stage runs and in what precision. */
    record Layout(int tp, int pp, int microBatches, Device device, Precision precision) {
        static Layout cpu(int tp, int pp, int microBatches) {
            return new Layout(tp, pp, microBatches, Device.CPU, Precision.F32);
        }

        @Override
        public String toString() {
            return "tp " + tp + " x pp " + pp + " (" + microBatches + " micro-batches, " + device + ", " + precision + ")";
        }
    }

    /**
     * What came back: per step the loss and the norm; per step, for every replicated parameter, each rank's value
     * (rank order) as F32 bits.
     */
    record Outcome(double[] losses, double[] norms, List<Map<String, List<int[]>>> replicated) {
    }

    /** How one rank's tensor-parallel group and adapter are made. */
    interface Faults {
        Faults NONE = new Faults() { };

        default ProcessGroup tensorParallel(ProcessGroup group) {
            return group;
        }

        default LoraAdapters adapters(LoraAdapters correct, int tpRank, int stage) {
            return correct;
        }
    }

    static ModelConfig config() {
        return PeftFixtures.modelConfig();
    }

    /** Random ids of the fixture's vocabulary: one batch, which every step reads again (so the loss must fall). */
    static TokenBatches data(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long[] ids = new long[ROWS * (SEQ_LEN + 1)];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = random.nextInt((int) config().vocabSize());
        }
        return TokenBatches.of(ids, "random ids", config().vocabSize(), SEQ_LEN, ROWS);
    }

    /** The default fresh adapter: rank 4, alpha 8, on every projection, seed 7. */
    static FreshAdapter adapter() {
        return FreshAdapter.of(4, 8, List.of("gate_proj", "up_proj", "down_proj"), 7, config().numHiddenLayers());
    }

    static AdamWConfig optimizer() {
        return AdamWConfig.of(0.02).withWeightDecay(0.01);
    }

    static Outcome run(LoraAdapters adapters, int steps, Layout layout, double clipNorm, Faults faults) {
        try (WeightSource base = SafetensorsCheckpoint.open(PeftFixtures.root().resolve("base"))) {
            return run(base, adapters, data(11), steps, layout, clipNorm, faults);
        }
    }

    static Outcome run(WeightSource base, LoraAdapters adapters, TokenBatches data, int steps, Layout layout,
                       double clipNorm, Faults faults) {
        ModelConfig config = config();
        var spec = new PipelineStage.Spec(config, PipelinePartition.balanced(config.numHiddenLayers(), layout.pp(),
                PipelinePartition.Remainder.FIRST), layout.device(), layout.precision(), VocabShard.DEFAULT_MULTIPLE);
        record RankRun(double[] losses, double[] norms, List<Map<String, int[]>> replicated) {
        }
        List<RankRun> ranks = LocalGroup.runMesh(layout.tp(), layout.pp(), Duration.ofSeconds(60), plain -> {
            Mesh mesh = new Mesh(faults.tensorParallel(plain.tensorParallel()), plain.pipeline());
            LoraAdapters mine = faults.adapters(adapters, mesh.tpRank(), mesh.stage());
            double[] losses = new double[steps];
            double[] norms = new double[steps];
            List<Map<String, int[]>> replicated = new ArrayList<>();
            try (PipelineStage stage = PipelineStage.load(base, spec, mesh, mine, layer -> { });
                 StageTrainer trainer = new StageTrainer(stage, optimizer(), clipNorm)) {
                for (int k = 0; k < steps; k++) {
                    StageTrainer.Step s = trainer.step(data.inputs(k), data.targets(k), data.rows(),
                            layout.microBatches());
                    losses[k] = s.loss();
                    norms[k] = s.gradNorm();
                    Map<String, int[]> values = new LinkedHashMap<>();
                    for (Parameter p : trainer.parameters()) {
                        if (p.placement() == Placement.REPLICATED) {
                            values.put(p.name(), bits(p.value()));
                        }
                    }
                    replicated.add(values);
                }
            }
            return new RankRun(losses, norms, replicated);
        });
        RankRun last = ranks.get((layout.pp() - 1) * layout.tp());
        List<Map<String, List<int[]>>> replicated = new ArrayList<>();
        for (int k = 0; k < steps; k++) {
            Map<String, List<int[]>> step = new LinkedHashMap<>();
            for (RankRun r : ranks) {
                for (Map.Entry<String, int[]> e : r.replicated().get(k).entrySet()) {
                    step.computeIfAbsent(e.getKey(), name -> new ArrayList<>()).add(e.getValue());
                }
            }
            replicated.add(step);
        }
        return new Outcome(last.losses(), last.norms(), replicated);
    }

    private static int[] bits(Tensor t) {
        try (Tensor host = t.copyTo(Device.CPU)) {
            float[] f = host.toFloatArray();
            int[] out = new int[f.length];
            for (int i = 0; i < f.length; i++) {
                out[i] = Float.floatToRawIntBits(f[i]);
            }
            return out;
        }
    }

    private TrainingRun() {
    }
}
