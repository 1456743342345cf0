package io.tpkernels.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.layers.weights.InMemoryWeights;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.MemoryMeter;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.testing.GemmReference;
import io.tpkernels.testing.RandomData;
import io.tpkernels.testing.RecordingGroup;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * The LM head on tp ranks: gathered logits are the unsharded {@code X·Wᵀ} with the padding dropped; the
 * vocab-parallel argmax is the argmax of those logits (ties to the smaller id) and never a padding column;
 * each rank allocates only its valid rows.
 */
class ParallelLMHeadPropertiesTest {

    @Property(tries = 30)
    void gatheredLogitsAndArgmaxMatchTheUnshardedHead(@ForAll(supplier = TensorParallelSizes.class) int tp, @ForAll @IntRange(min = 1, max = 200) int vocab,
                                                      @ForAll @IntRange(min = 1, max = 24) int hidden,
                                                      @ForAll @IntRange(min = 1, max = 6) int t,
                                                      @ForAll @IntRange(min = 1, max = 16) int multiple,
                                                      @ForAll Precision precision) {
        check(Device.CPU, precision, tp, vocab, hidden, t, multiple, 0);
    }

    /**
     * With the head's rows repeating every {@code period} rows, every largest logit appears several times, in
     * different shards: the argmax is the first of them. One token's hidden state is zero, so all its logits tie.
     */
    @Property(tries = 15)
    void theArgmaxBreaksTiesToTheSmallestIdAcrossShards(@ForAll(supplier = TensorParallelSizes.class) int tp, @ForAll @IntRange(min = 2, max = 120) int vocab,
                                                        @ForAll @IntRange(min = 1, max = 7) int period,
                                                        @ForAll @IntRange(min = 1, max = 4) int multiple,
                                                        @ForAll Precision precision) {
        check(Device.CPU, precision, tp, vocab, 6, 4, multiple, Math.min(period, vocab - 1));
    }

    /** The argmax's values and ids travel together: one collective per call, whatever tp. */
    @Property(tries = 8)
    void theArgmaxIssuesOneAllGather(@ForAll(supplier = TensorParallelSizes.class) int tp, @ForAll @IntRange(min = 1, max = 5) int t) {
        int vocab = 37, hidden = 8;
        try (InMemoryWeights weights = Harness.randomWeights(tp, DType.F32, Map.of("head", new long[] {vocab, hidden}))) {
            float[] x = Harness.drain(Harness.activations(t, DType.F32, Device.CPU, t, hidden));
            List<List<String>> calls = LocalGroup.run(tp, Duration.ofSeconds(60), g -> {
                RecordingGroup recording = new RecordingGroup(g);
                RankContext ctx = new RankContext(recording, ExecutionContext.cpu(), Precision.F32);
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

    /** A head of random rows, or, with {@code period > 0}, of rows that repeat every {@code period} rows. */
    private static InMemoryWeights head(long seed, DType dtype, int vocab, int hidden, int period) {
        if (period == 0) {
            return Harness.randomWeights(seed, dtype, Map.of("head", new long[] {vocab, hidden}));
        }
        float[] rows = RandomData.moderate(seed, period * hidden);
        float[] w = new float[vocab * hidden];
        for (int j = 0; j < vocab; j++) {
            System.arraycopy(rows, (j % period) * hidden, w, j * hidden, hidden);
        }
        return new InMemoryWeights("repeating head " + seed, Map.of("head", Tensor.ofFloats(dtype, w, vocab, hidden)));
    }

    /**
     * The property on {@code device}: weights and hidden states in {@code precision}'s dtype, F32 logits. The
     * logits' tolerance is F32's whatever the weights' dtype: the inputs are exact in their dtype, their products
     * exact in f32, and the head accumulates in f32 (docs/contract.md section 5).
     */
    static void check(Device device, Precision precision, int tp, int vocab, int hidden, int t, int multiple,
                      int period) {
        DType dtype = precision.dtype();
        try (InMemoryWeights weights = head(vocab * 11L + hidden, dtype, vocab, hidden, period)) {
            float[] x = Harness.drain(Harness.activations(t * 3L + vocab, dtype, Device.CPU, t, hidden));
            if (period > 0) {
                Arrays.fill(x, 0, hidden, 0f); // token 0: every logit is zero, all tie
            }
            record Out(float[] logits, long[] argmax, long bytes) {
            }
            List<Out> outs = Harness.onRanks(tp, device, precision, ctx -> {
                MemoryMeter meter = MemoryMeter.start();
                ParallelLMHead head;
                try (meter) {
                    head = ParallelLMHead.load(weights, "head", vocab, hidden, multiple, ctx);
                }
                try (head; Tensor xh = Tensor.ofFloats(dtype, x, t, hidden); Tensor xr = xh.copyTo(device)) {
                    return new Out(Harness.drain(head.logits(xr)), head.argmax(xr), meter.peakBytes(device));
                }
            });
            double[][][] ref = GemmReference.multiplyNT(x, Harness.floats(weights, "head"), t, vocab, hidden);
            for (int r = 0; r < tp; r++) {
                Out o = outs.get(r);
                assertEquals((long) t * vocab, o.logits().length, "[T, V]: padding dropped");
                Tolerance.assertClose(ref, o.logits(), vocab, DType.F32, "LM head rank " + r);
                assertArrayEquals(ArgmaxReference.scan(o.logits(), t, vocab), o.argmax(), "argmax on rank " + r);
                for (int i = 0; i < t; i++) {
                    double margin = 2 * Tolerance.relative(DType.F32) * Arrays.stream(ref[1][i]).max().orElseThrow();
                    long exact = ArgmaxReference.ofExact(ref[0][i], margin);
                    if (exact >= 0) {
                        assertEquals(exact, o.argmax()[i], "argmax of token " + i + " against the exact logits, rank " + r);
                    }
                }
                if (period > 0) {
                    assertEquals(0, o.argmax()[0], "a zero hidden state: every logit ties, the argmax is id 0");
                    for (int i = 1; i < t; i++) {
                        assertTrue(o.argmax()[i] < period, "a repeated row's first copy wins: " + o.argmax()[i]);
                    }
                }
                long valid = VocabShard.of(vocab, tp, r, multiple).validRows();
                assertEquals(valid * hidden * dtype.byteSize(), o.bytes(),
                        "rank " + r + " allocates only its " + valid + " valid rows");
            }
        }
    }
}
