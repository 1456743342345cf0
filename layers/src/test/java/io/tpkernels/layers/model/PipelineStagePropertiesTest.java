package io.tpkernels.layers.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.layers.ArgmaxReference;
import io.tpkernels.layers.Harness;
import io.tpkernels.layers.LoraSource;
import io.tpkernels.layers.Precision;
import io.tpkernels.layers.TensorParallelSizes;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.model.DemoModelNames.Projection;
import io.tpkernels.layers.testing.DemoModelReference;
import io.tpkernels.layers.weights.InMemoryWeights;
import io.tpkernels.ops.LoraLinear;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.MemoryMeter;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.PipelinePartition;
import io.tpkernels.shard.VocabShard;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * The demo model on tp × pp ranks equals the double reference, with and without LoRA, tied and untied; the
 * embedding lives only on stage 0 and the head only on the last stage: every rank allocates exactly its
 * layers' shards plus, where it belongs, its valid vocab rows.
 */
class PipelineStagePropertiesTest {

    @Provide
    Arbitrary<Integer> pps() {
        return Arbitraries.of(1, 2, 4);
    }

    /** The demo model's tensors at these sizes. */
    public static Map<String, long[]> shapes(int vocab, int hidden, int inter, int layers, boolean tied) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put(DemoModelNames.EMBED, new long[] {vocab, hidden});
        for (int l = 0; l < layers; l++) {
            shapes.put(DemoModelNames.weight(l, Projection.GATE), new long[] {inter, hidden});
            shapes.put(DemoModelNames.weight(l, Projection.UP), new long[] {inter, hidden});
            shapes.put(DemoModelNames.weight(l, Projection.DOWN), new long[] {hidden, inter});
        }
        if (!tied) {
            shapes.put(DemoModelNames.LM_HEAD, new long[] {vocab, hidden});
        }
        return shapes;
    }

    @Property(tries = 12)
    void shardedAndPipelinedEqualsTheReference(@ForAll(supplier = TensorParallelSizes.class) int tp, @ForAll("pps") int pp,
                                               @ForAll @IntRange(min = 1, max = 3) int extraLayers,
                                               @ForAll @IntRange(min = 2, max = 150) int vocab,
                                               @ForAll boolean tied, @ForAll boolean withLora,
                                               @ForAll @IntRange(min = 1, max = 5) int t) {
        check(Device.CPU, tp, pp, extraLayers, vocab, tied, withLora, t);
    }

    /** The property on {@code device}; shared with the GPU test. */
    static void check(Device device, int tp, int pp, int extraLayers, int vocab, boolean tied, boolean withLora, int t) {
        int hidden = 2 * tp;
        int inter = 3 * tp;
        int layers = pp + extraLayers - 1;
        int multiple = 8;
        int loraRank = 2;
        Map<String, long[]> shapes = shapes(vocab, hidden, inter, layers, tied);
        Map<String, long[]> adapterShapes = new LinkedHashMap<>();
        if (withLora) {
            for (int l = 0; l < layers; l++) {
                // LoRA on up (column-parallel) and down (row-parallel) of every layer.
                adapterShapes.put(DemoModelNames.loraA(l, Projection.UP), new long[] {loraRank, hidden});
                adapterShapes.put(DemoModelNames.loraB(l, Projection.UP), new long[] {inter, loraRank});
                adapterShapes.put(DemoModelNames.loraA(l, Projection.DOWN), new long[] {loraRank, inter});
                adapterShapes.put(DemoModelNames.loraB(l, Projection.DOWN), new long[] {hidden, loraRank});
            }
        }
        float scale = 0.5f;
        try (InMemoryWeights weights = Harness.randomWeights(vocab * 5L + layers, DType.F32, shapes, true);
             InMemoryWeights adapter = Harness.randomWeights(vocab + 99L, DType.F32, adapterShapes, true)) {
            LoraAdapters adapters = (layer, p) -> withLora && p != Projection.GATE
                    ? Optional.of(new LoraSource.FromAdapter(adapter, DemoModelNames.loraA(layer, p),
                    DemoModelNames.loraB(layer, p), scale)) : Optional.empty();
            long[] ids = new SplittableRandom(t + vocab).longs(t, 0, vocab).toArray();
            ModelConfig config = new ModelConfig(vocab, hidden, inter, layers, 0, 0, 0, tied);
            PipelinePartition partition = PipelinePartition.balanced(layers, pp, PipelinePartition.Remainder.FIRST);
            var spec = new PipelineStage.Spec(config, partition, device, Precision.F32, multiple);
            record Out(float[] logits, long[] argmax, long liveBytes, long peakBytes) {
            }
            List<Out> outs = LocalGroup.runMesh(tp, pp, Duration.ofSeconds(60), mesh -> {
                MemoryMeter meter = MemoryMeter.start();
                PipelineStage stage;
                long live;
                try (meter) {
                    stage = PipelineStage.load(weights, spec, mesh, adapters, layer -> { });
                    live = meter.liveBytes(device);
                }
                try (stage; Tensor idt = Tensor.ofLongs(DType.I64, ids, t)) {
                    Tensor logits = stage.logits(idt);
                    long[] argmax = stage.argmax(idt);
                    return new Out(logits == null ? null : Harness.drain(logits), argmax, live, meter.peakBytes(device));
                }
            });
            DemoModelReference.LoraLookup lora = (l, p) -> withLora && p != Projection.GATE
                    ? new DemoModelReference.Lora(Harness.floats(adapter, DemoModelNames.loraA(l, p)),
                    Harness.floats(adapter, DemoModelNames.loraB(l, p)), loraRank, scale) : null;
            double[][] ref = DemoModelReference.logits(weights, ids, vocab, hidden, inter, layers, tied, lora);
            for (int w = 0; w < tp * pp; w++) {
                int stage = w / tp;
                int rank = w % tp;
                Out o = outs.get(w);
                boolean first = stage == 0;
                boolean last = stage == pp - 1;
                if (!last) {
                    assertNull(o.logits(), "only the last stage returns logits");
                    assertNull(o.argmax());
                } else {
                    assertNotNull(o.logits());
                    assertNotNull(o.argmax());
                    // The greedy tokens: those of the logits this stage returns, found by a scan, exactly; and
                    // the reference's wherever its winner leads by more than twice the logits' tolerance.
                    assertArrayEquals(ArgmaxReference.scan(o.logits(), t, vocab), o.argmax(),
                            "argmax on stage " + stage + " rank " + rank);
                    for (int i = 0; i < t; i++) {
                        double scaleOfRow = 0;
                        for (double v : ref[i]) {
                            scaleOfRow = Math.max(scaleOfRow, Math.abs(v));
                        }
                        for (int j = 0; j < vocab; j++) {
                            assertEquals(ref[i][j], o.logits()[i * vocab + j], 1e-4 * (scaleOfRow + 1),
                                    "logit [" + i + ", " + j + "] on stage " + stage + " rank " + rank);
                        }
                        long exact = ArgmaxReference.ofExact(ref[i], 2e-4 * (scaleOfRow + 1));
                        if (exact >= 0) {
                            assertEquals(exact, o.argmax()[i], "argmax of token " + i + " against the reference on stage "
                                    + stage + " rank " + rank);
                        }
                    }
                }
                // On a GPU an adapter whose rank's rows are not 16-byte multiples is kept zero-padded instead, one copy.
                long r = device.isCuda() ? LoraLinear.paddedRank(loraRank, DType.F32) : loraRank;
                long perLayer = 3L * inter * hidden / tp
                        + (withLora ? r * hidden + (long) inter / tp * r + r * inter / tp + (long) hidden * r : 0);
                long vocabRows = VocabShard.of(vocab, tp, rank, multiple).validRows() * hidden;
                long expected = perLayer * partition.layers(stage) + (first ? vocabRows : 0)
                        + (last && !(tied && first) ? vocabRows : 0);
                assertEquals(expected * 4, o.liveBytes(), "stage " + stage + " rank " + rank + " holds its layers"
                        + (first ? ", the embedding" : "") + (last ? ", the head" : "") + " and nothing else");
                // Padding an adapter holds its copy as loaded beside the padded one until the copies are done: one
                // projection's at a time, at most.
                long transientMost = withLora && r != loraRank ? 4L * Math.max(loraRank * hidden
                        + (long) inter / tp * loraRank, (long) loraRank * inter / tp + (long) hidden * loraRank) : 0;
                assertTrue(o.peakBytes() >= o.liveBytes() && o.peakBytes() - o.liveBytes() <= transientMost,
                        "stage " + stage + " rank " + rank + " peaks at " + o.peakBytes() + " bytes, holds "
                        + o.liveBytes());
            }
        }
    }
}
