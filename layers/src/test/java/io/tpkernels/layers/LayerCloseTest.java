package io.tpkernels.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.model.DemoModelNames.Projection;
import io.tpkernels.layers.model.DemoModelNames;
import io.tpkernels.layers.model.LoraAdapters;
import io.tpkernels.layers.model.MlpBlock;
import io.tpkernels.layers.weights.InMemoryWeights;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.MemoryMeter;
import io.tpkernels.runtime.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Layers own their memory (issue 8): closing a layer gives back every byte it allocated while loading (the
 * {@link MemoryMeter} open during the load reads 0 live bytes again, on the device and on the host), and using it
 * afterwards is an {@link IllegalStateException}, never a crash or a read of freed memory; closing twice is
 * harmless. A head tied to an embedding borrows the embedding's shard: closing the head frees nothing, and once
 * the embedding is closed the head cannot be used.
 */
class LayerCloseTest {
    static final int H = 6;
    static final int INTER = 12;
    static final int VOCAB = 37;
    static final int R = 2;
    static final int T = 3;

    /** Every kind of layer, loaded from {@link #weights()} on one rank. */
    enum Kind {
        COLUMN_PARALLEL_LINEAR, ROW_PARALLEL_LINEAR, LORA_COLUMN_INITIALISED, LORA_ROW_INITIALISED,
        LORA_COLUMN_FROM_ADAPTER, LORA_ROW_FROM_ADAPTER, VOCAB_PARALLEL_EMBEDDING, COLUMN_PARALLEL_EMBEDDING, LM_HEAD,
        MLP_BLOCK
    }

    /** A loaded layer: one forward on an input of the right kind, and what closes it. */
    record Loaded(UnaryOperator<Tensor> use, AutoCloseable layer) {
    }

    static Stream<Arguments> kindsAndTps() {
        return Arrays.stream(Kind.values()).flatMap(k -> Stream.of(Arguments.of(k, 1), Arguments.of(k, 3)));
    }

    @ParameterizedTest(name = "{0}, tp {1}")
    @MethodSource("kindsAndTps")
    void closingGivesBackEveryByteAndLaterUseIsAnIllegalStateException(Kind kind, int tp) {
        check(Device.CPU, kind, tp);
    }

    @Test
    void aTiedHeadBorrowsTheEmbeddingsShardAndCannotOutliveIt() {
        tiedHead(Device.CPU, 2);
    }

    /** Every tensor the kinds read, F32 (the layers store BF16: loading casts). */
    static InMemoryWeights weights() {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("w", new long[] {H, H});
        shapes.put("bias", new long[] {H});
        shapes.put("a", new long[] {R, H});
        shapes.put("b", new long[] {H, R});
        shapes.put("emb", new long[] {VOCAB, H});
        shapes.put(DemoModelNames.weight(0, Projection.GATE), new long[] {INTER, H});
        shapes.put(DemoModelNames.weight(0, Projection.UP), new long[] {INTER, H});
        shapes.put(DemoModelNames.weight(0, Projection.DOWN), new long[] {H, INTER});
        return Harness.randomWeights(5, DType.F32, shapes);
    }

    static Loaded load(Kind kind, InMemoryWeights w, RankContext ctx) {
        var init = new LoraSource.Initialized(R, 1f, 7);
        var adapter = new LoraSource.FromAdapter(w, "a", "b", 1f);
        return switch (kind) {
            case COLUMN_PARALLEL_LINEAR -> linear(ColumnParallelLinear.load(w, "w", "bias", H, H, ctx, Tokens.REPLICATED,
                    true));
            case ROW_PARALLEL_LINEAR -> linear(RowParallelLinear.load(w, "w", "bias", H, H, ctx, false, Tokens.REPLICATED));
            case LORA_COLUMN_INITIALISED -> linear(LoraColumnParallelLinear.load(w, "w", "bias", H, H, ctx,
                    Tokens.REPLICATED, true, init));
            case LORA_ROW_INITIALISED -> linear(LoraRowParallelLinear.load(w, "w", "bias", H, H, ctx, false,
                    Tokens.REPLICATED, init));
            case LORA_COLUMN_FROM_ADAPTER -> linear(LoraColumnParallelLinear.load(w, "w", null, H, H, ctx,
                    Tokens.REPLICATED, true, adapter));
            case LORA_ROW_FROM_ADAPTER -> linear(LoraRowParallelLinear.load(w, "w", null, H, H, ctx, false,
                    Tokens.REPLICATED, adapter));
            case VOCAB_PARALLEL_EMBEDDING -> {
                VocabParallelEmbedding e = VocabParallelEmbedding.load(w, "emb", VOCAB, H, 8, ctx, Tokens.REPLICATED);
                yield new Loaded(x -> e.forward(ids(x)), e);
            }
            case COLUMN_PARALLEL_EMBEDDING -> {
                ColumnParallelEmbedding e = ColumnParallelEmbedding.load(w, "emb", VOCAB, H, ctx, Tokens.REPLICATED);
                yield new Loaded(x -> e.forward(ids(x)), e);
            }
            case LM_HEAD -> {
                ParallelLMHead head = ParallelLMHead.load(w, "emb", VOCAB, H, 8, ctx);
                yield new Loaded(head::logits, head);
            }
            case MLP_BLOCK -> {
                MlpBlock block = MlpBlock.load(w, 0, H, INTER, ctx, LoraAdapters.NONE);
                yield new Loaded(x -> {
                    Tensor h = x.copyTo(x.device());
                    try {
                        block.forwardInPlace(ExecutionContext.defaultFor(h.device()), h);
                        return h;
                    } catch (RuntimeException e) {
                        h.close();
                        throw e;
                    }
                }, block);
            }
        };
    }

    private static Loaded linear(ColumnParallelLinear l) {
        return new Loaded(l::forward, l);
    }

    private static Loaded linear(RowParallelLinear l) {
        return new Loaded(l::forward, l);
    }

    /** Token ids {@code [T]} made from the activation's device (the embeddings take ids, the others {@code [T, H]}). */
    private static Tensor ids(Tensor activations) {
        try (Tensor host = Tensor.ofLongs(DType.I64, new long[] {0, VOCAB - 1, 17}, T)) {
            return host.copyTo(activations.device());
        }
    }

    /**
     * The property on {@code device}: every rank meters its load, runs one forward, closes the layer, finds 0 live
     * bytes, and gets an {@link IllegalStateException} from a second forward. (Only the load is metered: a
     * forward may create a device's lasting caches, such as a stream's scratch, which belong to no layer.)
     */
    static void check(Device device, Kind kind, int tp) {
        try (InMemoryWeights weights = weights()) {
            Harness.onRanks(tp, device, Precision.BF16, ctx -> {
                Loaded layer;
                MemoryMeter meter = MemoryMeter.start();
                try (meter) {
                    layer = load(kind, weights, ctx);
                }
                String what = kind + " on rank " + ctx.rank() + " of tp " + tp;
                assertTrue(meter.liveBytes(device) > 0, what + " holds its shard");
                try (Tensor x = Harness.activations(ctx.rank(), DType.BF16, device, T, H)) {
                    float[] y = Harness.drain(layer.use().apply(x));
                    Tolerance.assertNoNaN(y, what);
                    layer.layer().close();
                    assertEquals(0, meter.liveBytes(device), what + ": closed, it holds nothing on " + device);
                    assertEquals(0, meter.liveBytes(Device.CPU), what + ": closed, it holds nothing on the host");
                    assertThrows(IllegalStateException.class, () -> layer.use().apply(x).close(), what + " after close");
                    layer.layer().close(); // twice: harmless
                }
                return null;
            });
        }
    }

    /** The tied head's lifetime on {@code device}: closing the head frees nothing; the embedding's close ends both. */
    static void tiedHead(Device device, int tp) {
        try (InMemoryWeights weights = weights()) {
            Harness.onRanks(tp, device, Precision.F32, ctx -> {
                MemoryMeter meter = MemoryMeter.start();
                VocabParallelEmbedding embedding;
                ParallelLMHead head;
                try (meter) {
                    embedding = VocabParallelEmbedding.load(weights, "emb", VOCAB, H, 8, ctx, Tokens.REPLICATED);
                    head = ParallelLMHead.tiedTo(embedding);
                }
                long shard = embedding.shard().validRows() * H * DType.F32.byteSize();
                assertEquals(shard, meter.liveBytes(device), "one copy of the valid rows, shared");
                try (Tensor x = Harness.activations(ctx.rank(), DType.F32, device, T, H)) {
                    Harness.drain(head.logits(x));
                    head.close();
                    assertEquals(shard, meter.liveBytes(device), "closing the tied head frees nothing of the embedding");
                    Harness.drain(embedding.forward(ids(x))); // the embedding still works
                    assertThrows(IllegalStateException.class, () -> head.logits(x).close(), "the head after its close");
                    ParallelLMHead second = ParallelLMHead.tiedTo(embedding);
                    embedding.close();
                    assertEquals(0, meter.liveBytes(device));
                    var e = assertThrows(IllegalStateException.class, () -> second.logits(x).close(),
                            "a tied head after the embedding's close");
                    assertTrue(e.getMessage().contains("VocabParallelEmbedding") && e.getMessage().contains("closed"),
                            e.getMessage());
                    assertThrows(IllegalStateException.class, () -> second.argmax(x), "argmax too");
                    assertThrows(IllegalStateException.class, () -> ParallelLMHead.tiedTo(embedding));
                    second.close();
                }
                return null;
            });
        }
    }
}
