package io.tpkernels.layers.model;

import io.tpkernels.collective.Mesh;
import io.tpkernels.layers.ParallelLMHead;
import io.tpkernels.layers.Precision;
import io.tpkernels.layers.RankContext;
import io.tpkernels.layers.Tokens;
import io.tpkernels.layers.VocabParallelEmbedding;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.PipelinePartition;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * One rank's part of the demo model (the contract, sections
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#11-pipeline-partition-and-the-parallel-plan">11</a>
 * and <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#13-the-demo-model">13</a>): the layers
 * {@code [partition.start(stage), partition.end(stage))} of its pipeline stage, sharded over the stage's
 * tensor-parallel group; the embedding only on stage 0 and the LM head only on the last stage (the other stages
 * allocate neither). Activations {@code [T, H]} travel from stage to stage with send/recv.
 */
public final class PipelineStage implements AutoCloseable {
    private final Mesh mesh;
    private final Spec spec;
    private final RankContext ctx;
    private final long hidden;
    private final VocabParallelEmbedding embedding;
    private final List<MlpBlock> blocks;
    private final ParallelLMHead head;

    private PipelineStage(Mesh mesh, Spec spec, RankContext ctx, long hidden, VocabParallelEmbedding embedding,
                          List<MlpBlock> blocks, ParallelLMHead head) {
        this.mesh = mesh;
        this.spec = spec;
        this.ctx = ctx;
        this.hidden = hidden;
        this.embedding = embedding;
        this.blocks = blocks;
        this.head = head;
    }

    /**
     * What a stage is built from, besides its rank's place in the mesh.
     *
     * @param config the model's sizes
     * @param partition the layers of each stage; as many stages as the mesh's pipeline group has ranks
     * @param device the device this stage's ranks run on
     * @param precision the weights' and activations' float type
     * @param vocabMultiple the vocab padding multiple {@code m}
     */
    public record Spec(ModelConfig config, PipelinePartition partition, Device device, Precision precision,
                       int vocabMultiple) {
    }

    /**
     * Loads this rank's shards: its stage's layers, plus the embedding on the first stage and the LM head on the
     * last (tied to the embedding's shard when the model ties them and both are here). {@code onLayerLoaded}
     * hears each global layer index as it finishes (for progress reports).
     *
     * @param source the model's weights, shared by every rank
     * @param spec the model, the partition, the device and the precision
     * @param mesh this rank's tensor-parallel and pipeline groups
     * @param adapters the LoRA adapters, or {@link LoraAdapters#NONE}
     * @param onLayerLoaded called on this rank's thread with each global layer index as it is loaded
     * @return the stage, owning its layers and an execution context of its own (a new stream on a GPU, tuned by the
     *     {@code tpk.*} properties); the caller closes it
     * @throws IllegalArgumentException when the partition's stages are not the mesh's, tp does not divide a sharded
     *     dimension, or a {@code tpk.*} property is malformed; a {@link io.tpkernels.layers.weights.WeightException}
     *     when a tensor is missing, of another shape or not float
     * @throws io.tpkernels.collective.CollectiveException when the group fails while a fresh adapter is shared
     */
    public static PipelineStage load(WeightSource source, Spec spec, Mesh mesh, LoraAdapters adapters,
                                     IntConsumer onLayerLoaded) {
        ModelConfig c = spec.config();
        int stage = mesh.stage();
        if (spec.partition().stages() != mesh.pipeline().size()) {
            throw new IllegalArgumentException("the partition has " + spec.partition().stages() + " stages but the mesh "
                    + mesh.pipeline().size());
        }
        // The stage's own context: its stream and its tuning (the tpk.* properties now), closed with the stage.
        ExecutionContext exec = ExecutionContext.create(spec.device());
        RankContext ctx = new RankContext(mesh.tensorParallel(), exec, spec.precision());
        boolean first = stage == 0;
        boolean last = stage == spec.partition().stages() - 1;
        List<AutoCloseable> loaded = new ArrayList<>();
        loaded.add(exec);
        try {
            VocabParallelEmbedding embedding = null;
            if (first) {
                embedding = VocabParallelEmbedding.load(source, DemoModelNames.EMBED, c.vocabSize(), c.hiddenSize(),
                        spec.vocabMultiple(), ctx, Tokens.REPLICATED);
                loaded.add(embedding);
            }
            List<MlpBlock> blocks = new ArrayList<>();
            for (int layer = spec.partition().start(stage); layer < spec.partition().end(stage); layer++) {
                MlpBlock block = MlpBlock.load(source, layer, c.hiddenSize(), c.intermediateSize(), ctx, adapters);
                loaded.add(block);
                blocks.add(block);
                onLayerLoaded.accept(layer);
            }
            ParallelLMHead head = null;
            if (last) {
                head = c.tieWordEmbeddings() && embedding != null ? ParallelLMHead.tiedTo(embedding)
                        : ParallelLMHead.load(source, c.tieWordEmbeddings() ? DemoModelNames.EMBED : DemoModelNames.LM_HEAD,
                        c.vocabSize(), c.hiddenSize(), spec.vocabMultiple(), ctx);
            }
            return new PipelineStage(mesh, spec, ctx, c.hiddenSize(), embedding, blocks, head);
        } catch (RuntimeException e) {
            closeAll(loaded, e);
            throw e;
        }
    }

    /** This rank's place: its stage's tensor-parallel group and its pipeline group. */
    Mesh mesh() {
        return mesh;
    }

    /** What the stage was built from: the model's config and the partition of its layers among the stages. */
    Spec spec() {
        return spec;
    }

    /** The stage's own context (its device, stream and precision). */
    RankContext ctx() {
        return ctx;
    }

    /** The stage's layers, the first being global layer {@code spec().partition().start(mesh().stage())}. */
    List<MlpBlock> blocks() {
        return blocks;
    }

    /** The model's hidden size H: the width of the activations between the layers. */
    long hiddenSize() {
        return hidden;
    }

    /** The embedding, on stage 0; {@code null} elsewhere. */
    VocabParallelEmbedding embedding() {
        return embedding;
    }

    /** The LM head, on the last stage; {@code null} elsewhere. */
    ParallelLMHead head() {
        return head;
    }

    /**
     * Whether this stage holds the LM head (and so returns results).
     *
     * @return {@code true} on the last stage
     */
    public boolean isLast() {
        return head != null;
    }

    /**
     * Runs the stage for {@code ids} ({@code [T]}, every stage gets them; stage 0 embeds them): on the last stage
     * the {@code [T, V]} F32 logits on the rank's device, elsewhere {@code null} once the activations are sent on.
     *
     * @param ids the token ids {@code [T]}, I32 or I64, the same on every rank of the mesh
     * @return the logits on the last stage, owned by the caller; {@code null} on the other stages
     * @throws IllegalArgumentException when the ids are malformed or (stage 0) out of the vocabulary
     * @throws io.tpkernels.collective.CollectiveException when a group fails or the ranks' calls disagree
     */
    public Tensor logits(Tensor ids) {
        try (Tensor h = hiddenStates(ids)) {
            return h == null ? null : head.logits(h);
        }
    }

    /**
     * Like {@link #logits}, but the greedy token ids (vocab-parallel argmax, no logits gathered).
     *
     * @param ids the token ids {@code [T]}, I32 or I64, the same on every rank of the mesh
     * @return the greedy token ids on the last stage, the same on each of its ranks; {@code null} on the other stages
     * @throws IllegalArgumentException when the ids are malformed or (stage 0) out of the vocabulary
     * @throws io.tpkernels.collective.CollectiveException when a group fails or the ranks' calls disagree
     */
    public long[] argmax(Tensor ids) {
        try (Tensor h = hiddenStates(ids)) {
            return h == null ? null : head.argmax(h);
        }
    }

    /** The stage's output activations; on a stage before the last they are sent on and {@code null} returned. */
    private Tensor hiddenStates(Tensor ids) {
        long tokens = ids.numel();
        Tensor h;
        if (embedding != null) {
            h = embedding.forward(ids);
        } else {
            h = Tensor.allocate(ctx.exec(), ctx.precision().dtype(), tokens, hidden);
        }
        try {
            if (embedding == null) {
                mesh.pipeline().recv(ctx.exec(), h, mesh.stage() - 1);
            }
            for (MlpBlock block : blocks) {
                block.forwardInPlace(ctx.exec(), h);
            }
            if (head != null) {
                return h;
            }
            mesh.pipeline().send(ctx.exec(), h, mesh.stage() + 1);
            h.close();
            return null;
        } catch (RuntimeException e) {
            h.close();
            throw e;
        }
    }

    @Override
    public void close() {
        List<AutoCloseable> all = new ArrayList<>();
        if (head != null) {
            all.add(head);
        }
        all.addAll(blocks);
        if (embedding != null) {
            all.add(embedding);
        }
        all.add(ctx.exec()); // last: it waits for the queued work, which reads the layers' weights
        closeAll(all, null);
    }

    private static void closeAll(List<AutoCloseable> resources, RuntimeException pending) {
        RuntimeException failure = pending;
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new IllegalStateException("closing " + r + " failed", e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (pending == null && failure != null) {
            throw failure;
        }
    }
}
