package io.tpkernels.bench.cases;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.layers.Precision;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.model.DemoModelNames;
import io.tpkernels.layers.model.DemoModelNames.Projection;
import io.tpkernels.layers.model.FreshAdapter;
import io.tpkernels.layers.model.PipelineStage;
import io.tpkernels.layers.model.StageTrainer;
import io.tpkernels.layers.weights.InMemoryWeights;
import io.tpkernels.ops.LinearBackward;
import io.tpkernels.ops.LoraLinearBackward;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.PipelinePartition;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.train.AdamWConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * One fine-tuning step of the demo-shaped model (docs/contract.md, fine-tuning): one layer of gate, up and down with
 * {@code K = N} (8192 unless {@code --quick}), LoRA of rank 16 on all three, a small vocabulary (so that the layer,
 * not the head, is what is timed), BF16, AdamW; the row's time is the whole step (forward, loss, backward, clipping,
 * AdamW), wall clock, with its host waits, steps back to back. Two baselines give the step's parts, timed alone with the same shapes:
 * {@code base-dx} the three base input-gradient GEMMs {@code dy·W}, and {@code lora-backward} what the LoRA
 * backward adds to them ({@code dx}'s LoRA term, {@code dA}, {@code dB}, the shrink it recomputes). Tokens per second
 * are the row's {@code M} over its time.
 */
final class FinetuneStepCase implements KernelCase {
    private static final int RANK = 16;
    private static final int VOCAB = 1024;
    private static final float SCALE = 2f;

    @Override
    public String name() {
        return "finetune-step";
    }

    private record Size(long hidden, int rows, int seqLen) {
        long tokens() {
            return (long) rows * seqLen;
        }
    }

    private static Size size(Bench bench) {
        if (bench.quick()) {
            return new Size(64, 2, 4);
        }
        return bench.isCuda() ? new Size(8192, 8, 512) : new Size(8192, 4, 16);
    }

    @Override
    public void measure(Bench bench, Consumer<Result> out) {
        Size size = size(bench);
        long h = size.hidden();
        SplittableRandom random = new SplittableRandom(29);
        Map<String, Tensor> tensors = new HashMap<>();
        tensors.put(DemoModelNames.EMBED, RandomTensors.floats(DType.BF16, random, VOCAB, h));
        tensors.put(DemoModelNames.LM_HEAD, RandomTensors.floats(DType.BF16, random, VOCAB, h));
        for (Projection p : Projection.values()) {
            tensors.put(DemoModelNames.weight(0, p), RandomTensors.floats(DType.BF16, random, h, h));
        }
        double stepMs;
        try (InMemoryWeights weights = new InMemoryWeights("finetune-step model", tensors)) {
            stepMs = stepMillis(bench, weights, size);
        }
        double baseDx;
        double lora;
        try (Tensors mem = bench.tensors(31)) {
            Tensor w = mem.floats(DType.BF16, h, h);
            Tensor a = mem.floats(DType.BF16, RANK, h);
            Tensor b = mem.floats(DType.BF16, h, RANK);
            Tensor x = mem.floats(DType.BF16, size.tokens(), h);
            Tensor dy = mem.floats(DType.F32, size.tokens(), h);
            Tensor dx = mem.empty(DType.F32, size.tokens(), h);
            Tensor dA = mem.empty(DType.F32, RANK, h);
            Tensor dB = mem.empty(DType.F32, h, RANK);
            int projections = Projection.values().length;
            baseDx = projections * bench.medianMillis(i -> LinearBackward.inputGradient(bench.exec(), dy, w, dx));
            lora = projections * bench.medianMillis(i -> LoraLinearBackward.backward(bench.exec(), x, w, a, b, SCALE, dy,
                    dx, dA, dB)) - baseDx;
        }
        long t = size.tokens();
        double layerFlops = 2.0 * t * 3 * h * h;
        double flops = 2 * layerFlops + 2 * 2.0 * t * VOCAB * h;
        double bytes = 2 * (3.0 * h * h * DType.BF16.byteSize());
        out.accept(new Result(name(), Result.Role.kernel, bench.backend(), "BF16",
                Shape.of("M", t).and("N", h).and("K", h).and("R", RANK).and("V", VOCAB), stepMs, bytes, flops,
                List.of(new Result.Baseline("base-dx", baseDx), new Result.Baseline("lora-backward", lora))));
    }

    /** The median wall time of whole steps on one rank, after the bench's warm-up. */
    private static double stepMillis(Bench bench, InMemoryWeights weights, Size size) {
        ModelConfig config = ModelConfig.parse("{\"vocab_size\": " + VOCAB + ", \"hidden_size\": " + size.hidden()
                + ", \"intermediate_size\": " + size.hidden() + ", \"num_hidden_layers\": 1}", "finetune-step model");
        FreshAdapter adapter = FreshAdapter.of(RANK, 2.0 * RANK, List.of("gate_proj", "up_proj", "down_proj"), 0, 1);
        var device = bench.device();
        var spec = new PipelineStage.Spec(config, PipelinePartition.balanced(1, 1, PipelinePartition.Remainder.FIRST),
                device, Precision.BF16, VocabShard.DEFAULT_MULTIPLE);
        SplittableRandom random = new SplittableRandom(37);
        long[] inputs = random.longs(size.tokens(), 0, VOCAB).toArray();
        long[] targets = random.longs(size.tokens(), 0, VOCAB).toArray();
        return LocalGroup.runMesh(1, 1, Duration.ofMinutes(10), mesh -> {
            try (PipelineStage stage = PipelineStage.load(weights, spec, mesh, adapter, layer -> { });
                 StageTrainer trainer = new StageTrainer(stage, AdamWConfig.of(1e-4), 1.0)) {
                long warmUntil = System.nanoTime() + (long) (bench.warmupSeconds() * 1e9);
                for (int run = 0; run < Math.max(1, bench.warmup()) || System.nanoTime() < warmUntil; run++) {
                    trainer.step(inputs, targets, size.rows(), 1);
                }
                double[] samples = new double[bench.runs()];
                for (int i = 0; i < samples.length; i++) {
                    long started = System.nanoTime();
                    // A step waits for its loss and norm, not for the optimizer's kernels queued after them: back to
                    // back, each sample holds one step's work in the steady state.
                    trainer.step(inputs, targets, size.rows(), 1);
                    samples[i] = (System.nanoTime() - started) / 1e6;
                }
                return Median.of(samples);
            }
        }).get(0);
    }
}
