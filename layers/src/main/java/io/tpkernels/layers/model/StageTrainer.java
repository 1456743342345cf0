package io.tpkernels.layers.model;

import io.tpkernels.collective.Mesh;
import io.tpkernels.layers.LoraLayer;
import io.tpkernels.layers.LoraParameters;
import io.tpkernels.layers.ParallelLMHead;
import io.tpkernels.layers.RankContext;
import io.tpkernels.layers.model.DemoModelNames.Projection;
import io.tpkernels.ops.VocabParallelCrossEntropy;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.train.AdamW;
import io.tpkernels.train.AdamWConfig;
import io.tpkernels.train.GradClipping;
import io.tpkernels.train.Parameter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * One rank's part of fine-tuning the demo model's LoRA adapter on its frozen base (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#p3-fine-tuning-steps">P3</a>). A
 * {@link #step} runs the step's micro-batches through the pipeline, all forwards and then all backwards in reverse
 * order (GPipe): a stage receives its input activations from the previous stage and sends its output on, and in the
 * backward receives the gradient of its output from the next stage and sends that of its input back. The last stage
 * computes the vocab-parallel cross-entropy on its sharded logits and the LM head's input gradient at once, so that its
 * logits live for one micro-batch only. Gradients sum over the micro-batches; then the global gradient norm over every
 * stage, the optional clipping, and AdamW on the adapter's F32 master weights.
 *
 * <p>Every rank of the mesh calls {@link #step} with the same arguments. Frozen weights have no gradient buffer;
 * stage 0 computes no gradient for the embedding (its input is token ids).
 */
public final class StageTrainer implements AutoCloseable {
    private final PipelineStage stage;
    private final List<LoraParameters> layers;
    private final List<Parameter> parameters;
    private final AdamW optimizer;
    private final double clipNorm;

    /**
     * What one step gave.
     *
     * @param loss     the step's mean loss over its non-ignored targets, before the update (NaN on every stage but
     *                 the last, which computes it; NaN too when every target is ignored)
     * @param gradNorm the global gradient norm before clipping, the same on every rank
     */
    public record Step(double loss, double gradNorm) {
    }

    /**
     * A trainer of {@code stage}'s LoRA layers.
     *
     * @param clipNorm the maximum global gradient norm, or 0 for no clipping
     * @param stage this rank's stage; it must stay open while the trainer is used
     * @param config AdamW's hyperparameters
     * @throws UnsupportedOperationException when a layer's adapter is DoRA
     * @throws IllegalArgumentException when {@code clipNorm} is negative, infinite or NaN
     */
    public StageTrainer(PipelineStage stage, AdamWConfig config, double clipNorm) {
        if (!(clipNorm >= 0) || Double.isInfinite(clipNorm)) {
            throw new IllegalArgumentException("the clipping norm must be finite and >= 0 (0: none), got " + clipNorm);
        }
        this.stage = stage;
        this.clipNorm = clipNorm;
        this.layers = new ArrayList<>();
        int first = stage.spec().partition().start(stage.mesh().stage());
        try {
            for (int j = 0; j < stage.blocks().size(); j++) {
                for (Map.Entry<Projection, LoraLayer> e : stage.blocks().get(j).loraLayers().entrySet()) {
                    layers.add(LoraParameters.of(DemoModelNames.module(first + j, e.getKey()), e.getValue()));
                }
            }
            this.parameters = LoraParameters.all(layers);
            this.optimizer = new AdamW(stage.ctx().exec(), config, parameters);
        } catch (RuntimeException e) {
            layers.forEach(LoraParameters::close);
            throw e;
        }
    }

    /**
     * This rank's trained parameters (F32 masters and their gradients), in the stage's layer order.
     *
     * @return the parameters, an unmodifiable list
     */
    public List<Parameter> parameters() {
        return parameters;
    }

    /**
     * One training step over {@code rows} rows of {@code inputs} and {@code targets} ({@code rows·T} ids each,
     * row-major; a target may be {@link VocabParallelCrossEntropy#IGNORE_INDEX}), split into {@code microBatches}
     * equal micro-batches of whole rows; the learning rate is the configuration's.
     *
     * @param inputs the step's input ids, {@code rows·T} of them
     * @param targets the step's target ids, as many
     * @param rows {@code B}, the step's rows
     * @param microBatches {@code M}, a divisor of {@code rows}
     * @return the step's loss (on the last stage) and gradient norm
     * @throws IllegalArgumentException when the inputs and targets do not make {@code rows} equal rows, {@code M} does
     *     not divide them, or an id is out of range
     * @throws io.tpkernels.collective.CollectiveException when a group fails or the ranks' calls disagree
     */
    public Step step(long[] inputs, long[] targets, int rows, int microBatches) {
        if (inputs.length != targets.length || rows < 1 || inputs.length % rows != 0 || inputs.length == 0) {
            throw new IllegalArgumentException("a step takes rows·T inputs and as many targets, got " + inputs.length
                    + " inputs and " + targets.length + " targets for " + rows + " rows");
        }
        if (microBatches < 1 || rows % microBatches != 0) {
            throw new IllegalArgumentException(microBatches + " micro-batches do not split " + rows
                    + " rows evenly");
        }
        long counted = Arrays.stream(targets).filter(t -> t != VocabParallelCrossEntropy.IGNORE_INDEX).count();
        int perBatch = inputs.length / microBatches;
        List<Pass> passes = new ArrayList<>();
        double lossSum = 0;
        try {
            for (int m = 0; m < microBatches; m++) {
                Pass pass = new Pass();
                passes.add(pass);
                lossSum += forward(pass, Arrays.copyOfRange(inputs, m * perBatch, (m + 1) * perBatch),
                        Arrays.copyOfRange(targets, m * perBatch, (m + 1) * perBatch), counted);
            }
            for (int m = microBatches - 1; m >= 0; m--) {
                backward(passes.get(m), perBatch);
            }
        } finally {
            passes.forEach(Pass::close);
        }
        double norm = update();
        return new Step(stage.isLast() ? lossSum / counted : Double.NaN, norm);
    }

    /** What one micro-batch's forward left for its backward. */
    private static final class Pass implements AutoCloseable {
        final List<MlpBlock.Saved> saved = new ArrayList<>();
        /** On the last stage: the gradient of the stage's output, already known after the forward. */
        Tensor outputGradient;

        @Override
        public void close() {
            saved.forEach(MlpBlock.Saved::close);
            saved.clear();
            if (outputGradient != null) {
                outputGradient.close();
            }
        }
    }

    /** One micro-batch's forward; on the last stage its loss times its count of targets, elsewhere 0. */
    private double forward(Pass pass, long[] inputs, long[] targets, long counted) {
        Mesh mesh = stage.mesh();
        RankContext ctx = stage.ctx();
        ExecutionContext exec = ctx.exec();
        Tensor h = receiveInput(inputs);
        for (MlpBlock block : stage.blocks()) {
            MlpBlock.Traced traced = block.forwardTraced(exec, h);
            pass.saved.add(traced.saved());
            h = traced.output();
        }
        Tensor output = h;
        if (!stage.isLast()) {
            try (output) {
                mesh.pipeline().send(exec, output, mesh.stage() + 1);
            }
            return 0;
        }
        ParallelLMHead.LossAndGradient step;
        try (output; Tensor t = onDevice(targets, exec)) {
            step = stage.head().lossAndGradient(output, t, count -> counted == 0 ? 0 : (double) count / counted);
        }
        pass.outputGradient = step.inputGradient(); // kept for the backward; the loss's statistics are not
        try (VocabParallelCrossEntropy.Forward loss = step.loss()) {
            return loss.count() == 0 ? 0 : loss.loss() * loss.count();
        }
    }

    /** Stage 0 embeds the ids; a later stage receives the previous stage's output activations. */
    private Tensor receiveInput(long[] inputs) {
        Mesh mesh = stage.mesh();
        RankContext ctx = stage.ctx();
        if (stage.embedding() != null) {
            try (Tensor ids = Tensor.ofLongs(DType.I64, inputs, inputs.length)) {
                return stage.embedding().forward(ids);
            }
        }
        Tensor h = Tensor.allocate(ctx.exec(), ctx.precision().dtype(), inputs.length, stage.hiddenSize());
        try {
            mesh.pipeline().recv(ctx.exec(), h, mesh.stage() - 1);
            return h;
        } catch (RuntimeException e) {
            h.close();
            throw e;
        }
    }

    /** One micro-batch's backward, its layers in reverse; the gradient of the stage's input goes to the stage before. */
    private void backward(Pass pass, int tokens) {
        Mesh mesh = stage.mesh();
        ExecutionContext exec = stage.ctx().exec();
        Tensor dh = pass.outputGradient;
        pass.outputGradient = null;
        if (dh == null) {
            dh = Tensor.allocate(exec, DType.F32, tokens, stage.hiddenSize());
            try {
                mesh.pipeline().recv(exec, dh, mesh.stage() + 1);
            } catch (RuntimeException e) {
                dh.close();
                throw e;
            }
        }
        try {
            for (int j = stage.blocks().size() - 1; j >= 0; j--) {
                MlpBlock.Saved saved = pass.saved.remove(j);
                try (Tensor upper = dh) {
                    dh = null;
                    dh = stage.blocks().get(j).backward(exec, saved, upper);
                }
            }
            if (mesh.stage() > 0) {
                mesh.pipeline().send(exec, dh, mesh.stage() - 1);
            }
        } finally {
            if (dh != null) {
                dh.close();
            }
        }
    }

    /** The global norm, clipping if asked, the optimizer's step, the masters published, the gradients zeroed. */
    private double update() {
        Mesh mesh = stage.mesh();
        ExecutionContext exec = stage.ctx().exec();
        double norm = clipNorm > 0 ? GradClipping.clip(exec, mesh.tensorParallel(), mesh.pipeline(), parameters, clipNorm)
                : GradClipping.globalNorm(exec, mesh.tensorParallel(), mesh.pipeline(), parameters);
        optimizer.step(exec);
        for (LoraParameters l : layers) {
            l.publish();
            l.zeroGrad();
        }
        return norm;
    }

    private static Tensor onDevice(long[] ids, ExecutionContext exec) {
        Tensor host = Tensor.ofLongs(DType.I64, ids, ids.length);
        if (!exec.isCuda()) {
            return host;
        }
        try (host) {
            return host.copyTo(exec.device());
        }
    }

    /** Frees the optimizer's state and any master copies; the stage stays the caller's. */
    @Override
    public void close() {
        try (optimizer) {
            layers.forEach(LoraParameters::close);
        }
    }
}
