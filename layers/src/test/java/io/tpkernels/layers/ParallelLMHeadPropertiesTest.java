package io.tpkernels.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.layers.weights.InMemoryWeights;
import io.tpkernels.ops.VocabArgmax;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Device;
import io.tpkernels.tensor.MemoryMeter;
import io.tpkernels.tensor.Tensor;
import io.tpkernels.testing.GemmReference;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * The LM head on tp ranks: gathered logits are the unsharded {@code X·Wᵀ} with the padding dropped; the
 * vocab-parallel argmax is the argmax of those logits (ties to the smaller id) and never a padding column;
 * each rank allocates only its valid rows.
 */
class ParallelLMHeadPropertiesTest {

    @Provide
    Arbitrary<Integer> tps() {
        return Arbitraries.of(1, 2, 3, 4, 8);
    }

    @Property(tries = 30)
    void gatheredLogitsAndArgmaxMatchTheUnshardedHead(@ForAll("tps") int tp, @ForAll @IntRange(min = 1, max = 200) int vocab,
                                                      @ForAll @IntRange(min = 1, max = 24) int hidden,
                                                      @ForAll @IntRange(min = 1, max = 6) int t,
                                                      @ForAll @IntRange(min = 1, max = 16) int multiple) {
        check(Device.CPU, tp, vocab, hidden, t, multiple);
    }

    /** The argmax's values and ids travel together: one collective per call, whatever tp. */
    @Property(tries = 8)
    void theArgmaxIssuesOneAllGather(@ForAll("tps") int tp, @ForAll @IntRange(min = 1, max = 5) int t) {
        int vocab = 37, hidden = 8;
        try (InMemoryWeights weights = Harness.randomWeights(tp, DType.F32, Map.of("head", new long[] {vocab, hidden}))) {
            float[] x = Harness.drain(Harness.activations(t, DType.F32, Device.CPU, t, hidden));
            List<List<String>> calls = LocalGroup.run(tp, Duration.ofSeconds(60), g -> {
                RecordingGroup recording = new RecordingGroup(g);
                RankContext ctx = new RankContext(recording, Device.CPU, Precision.F32);
                try (ParallelLMHead head = ParallelLMHead.load(weights, "head", vocab, hidden, 4, ctx);
                     Tensor xr = Tensor.ofFloats(DType.F32, x, t, hidden)) {
                    recording.calls.clear(); // loading is not part of the call
                    head.argmax(xr);
                    return List.copyOf(recording.calls);
                }
            });
            for (List<String> c : calls) {
                assertEquals(List.of("allGather"), c);
            }
        }
    }

    static void check(Device device, int tp, int vocab, int hidden, int t, int multiple) {
        try (InMemoryWeights weights = Harness.randomWeights(vocab * 11L + hidden, DType.F32,
                Map.of("head", new long[] {vocab, hidden}))) {
            float[] x = Harness.drain(Harness.activations(t * 3L + vocab, DType.F32, Device.CPU, t, hidden));
            record Out(float[] logits, long[] argmax, long bytes) {
            }
            List<Out> outs = Harness.onRanks(tp, device, Precision.F32, ctx -> {
                MemoryMeter meter = MemoryMeter.start();
                ParallelLMHead head;
                try (meter) {
                    head = ParallelLMHead.load(weights, "head", vocab, hidden, multiple, ctx);
                }
                try (head; Tensor xh = Tensor.ofFloats(DType.F32, x, t, hidden); Tensor xr = xh.copyTo(device)) {
                    return new Out(Harness.drain(head.logits(xr)), head.argmax(xr), meter.peakBytes(device));
                }
            });
            double[][][] ref = GemmReference.multiplyNT(x, Harness.floats(weights, "head"), t, vocab, hidden);
            for (int r = 0; r < tp; r++) {
                Out o = outs.get(r);
                assertEquals((long) t * vocab, o.logits().length, "[T, V]: padding dropped");
                GemmReference.assertClose(ref, o.logits(), vocab, false, "LM head rank " + r);
                long[] expected = new long[t];
                for (int i = 0; i < t; i++) {
                    long best = 0;
                    for (int j = 1; j < vocab; j++) {
                        if (VocabArgmax.beats(o.logits()[i * vocab + j], j, o.logits()[i * vocab + (int) best], best)) {
                            best = j;
                        }
                    }
                    expected[i] = best;
                }
                assertArrayEquals(expected, o.argmax(), "argmax on rank " + r);
                long valid = VocabShard.of(vocab, tp, r, multiple).validRows();
                assertEquals(valid * hidden * 4, o.bytes(), "rank " + r + " allocates only its " + valid + " valid rows");
            }
        }
    }
}
