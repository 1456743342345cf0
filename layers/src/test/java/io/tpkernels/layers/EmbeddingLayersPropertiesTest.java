package io.tpkernels.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.weights.InMemoryWeights;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.MemoryMeter;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * Both embeddings on tp ranks equal the unsharded lookup bit for bit, in every output layout, and the
 * vocab-parallel one allocates only its shard's valid rows.
 */
class EmbeddingLayersPropertiesTest {

    @Provide
    Arbitrary<DType> floatTypes() {
        return Arbitraries.of(DType.F32, DType.BF16);
    }

    @Property(tries = 30)
    void vocabParallelEqualsTheUnshardedLookupExactly(@ForAll(supplier = TensorParallelSizes.class) int tp, @ForAll @IntRange(min = 1, max = 300) int vocab,
                                                      @ForAll @IntRange(min = 1, max = 9) int hidden,
                                                      @ForAll @IntRange(min = 1, max = 4) int tokensPerRank,
                                                      @ForAll @IntRange(min = 1, max = 16) int multiple,
                                                      @ForAll boolean sharded, @ForAll("floatTypes") DType dtype) {
        check(Device.CPU, tp, vocab, hidden, tokensPerRank * tp, multiple, sharded, true, dtype);
    }

    @Property(tries = 30)
    void hiddenParallelEqualsTheUnshardedLookupExactly(@ForAll(supplier = TensorParallelSizes.class) int tp, @ForAll @IntRange(min = 1, max = 300) int vocab,
                                                       @ForAll @IntRange(min = 1, max = 3) int hiddenPerRank,
                                                       @ForAll @IntRange(min = 1, max = 4) int tokensPerRank,
                                                       @ForAll boolean sharded, @ForAll("floatTypes") DType dtype) {
        check(Device.CPU, tp, vocab, hiddenPerRank * tp, tokensPerRank * tp, 1, sharded, false, dtype);
    }

    /** Random ids including both vocab edges. */
    static long[] ids(long seed, int t, int vocab) {
        SplittableRandom r = new SplittableRandom(seed);
        long[] ids = new long[t];
        for (int i = 0; i < t; i++) {
            ids[i] = r.nextInt(vocab);
        }
        ids[0] = vocab - 1;
        ids[t - 1] = 0;
        return ids;
    }

    static void check(Device device, int tp, int vocab, int hidden, int t, int multiple, boolean sharded,
                      boolean vocabParallel, DType dtype) {
        try (InMemoryWeights weights = Harness.randomWeights(vocab * 3L + hidden, dtype,
                Map.of("emb", new long[] {vocab, hidden}))) {
            long[] ids = ids(t + vocab, t, vocab);
            float[] table = Harness.floats(weights, "emb");
            Tokens layout = sharded ? Tokens.SHARDED : Tokens.REPLICATED;
            Precision precision = dtype == DType.F32 ? Precision.F32 : Precision.BF16;
            List<float[]> outs = Harness.onRanks(tp, device, precision, ctx -> {
                try (Tensor idt = Tensor.ofLongs(DType.I64, ids, t)) {
                    if (vocabParallel) {
                        try (VocabParallelEmbedding e = VocabParallelEmbedding.load(weights, "emb", vocab, hidden,
                                multiple, ctx, layout)) {
                            return Harness.drain(e.forward(idt));
                        }
                    }
                    try (ColumnParallelEmbedding e = ColumnParallelEmbedding.load(weights, "emb", vocab, hidden, ctx,
                            layout)) {
                        return Harness.drain(e.forward(idt));
                    }
                }
            });
            for (int r = 0; r < tp; r++) {
                int rows = sharded ? t / tp : t;
                int first = sharded ? r * rows : 0;
                float[] expected = new float[rows * hidden];
                for (int i = 0; i < rows; i++) {
                    System.arraycopy(table, (int) ids[first + i] * hidden, expected, i * hidden, hidden);
                }
                assertArrayEquals(expected, outs.get(r), (vocabParallel ? "vocab" : "hidden") + "-parallel rank " + r);
            }
        }
    }

    @Property(tries = 20)
    void theVocabParallelEmbeddingAllocatesOnlyItsValidRows(@ForAll(supplier = TensorParallelSizes.class) int tp, @ForAll @IntRange(min = 1, max = 500) int vocab,
                                                            @ForAll @IntRange(min = 1, max = 64) int multiple,
                                                            @ForAll("floatTypes") DType stored) {
        allocatesOnlyValidRows(Device.CPU, tp, vocab, multiple, stored);
    }

    /**
     * The bytes property on {@code device}: a BF16 embedding loaded from a checkpoint stored as {@code stored}, with a
     * head tied to it, holds its valid rows once. At the peak it may also have held them in the stored dtype (a GPU
     * casts on the device, after the copy); on the host the cast reads the checkpoint in place.
     */
    static void allocatesOnlyValidRows(Device device, int tp, int vocab, int multiple, DType stored) {
        int hidden = 6;
        try (InMemoryWeights weights = Harness.randomWeights(vocab, stored, Map.of("emb", new long[] {vocab, hidden}))) {
            List<long[]> bytes = Harness.onRanks(tp, device, Precision.BF16, ctx -> {
                MemoryMeter meter = MemoryMeter.start();
                try (meter;
                     VocabParallelEmbedding e = VocabParallelEmbedding.load(weights, "emb", vocab, hidden, multiple, ctx,
                             Tokens.REPLICATED);
                     ParallelLMHead head = ParallelLMHead.tiedTo(e)) {
                    return new long[] {meter.liveBytes(device), meter.peakBytes(device), e.shard().validRows(),
                            head.isTied() ? 1 : 0, device.isCuda() ? meter.liveBytes(Device.CPU) : 0};
                }
            });
            for (int r = 0; r < tp; r++) {
                long valid = VocabShard.of(vocab, tp, r, multiple).validRows();
                long[] b = bytes.get(r);
                assertEquals(valid, b[2]);
                long shard = valid * hidden * DType.BF16.byteSize();
                assertEquals(shard, b[0], "rank " + r + " holds its " + valid + " valid BF16 rows once, shared with the tied head");
                long staged = device.isCuda() && stored != DType.BF16 ? valid * hidden * stored.byteSize() : 0;
                assertEquals(shard + staged, b[1], "rank " + r + "'s peak: the shard" + (staged > 0 ? ", and its copy as "
                        + stored + " before the cast" : ""));
                assertEquals(0, b[4], "rank " + r + " keeps nothing on the host");
                assertEquals(1, b[3]);
            }
        }
    }

    @Test
    void aBadIdIsAnErrorNamingItsPositionOnEveryRank() {
        try (InMemoryWeights weights = Harness.randomWeights(1, DType.F32, Map.of("emb", new long[] {50, 4}))) {
            var e = assertThrows(IllegalArgumentException.class, () -> Harness.onRanks(2, Device.CPU, Precision.F32, ctx -> {
                try (VocabParallelEmbedding emb = VocabParallelEmbedding.load(weights, "emb", 50, 4, 8, ctx,
                        Tokens.REPLICATED);
                     Tensor ids = Tensor.ofLongs(DType.I64, new long[] {3, 50, 7}, 3)) {
                    return emb.forward(ids);
                }
            }));
            assertTrue(e.getMessage().contains("50") && e.getMessage().contains("position 1"), e.getMessage());
        }
    }

    @Test
    void aCheckpointTensorOfTheWrongShapeIsNamedWithBothShapes() {
        try (InMemoryWeights weights = Harness.randomWeights(1, DType.F32, Map.of("emb", new long[] {50, 4}))) {
            var e = assertThrows(IllegalArgumentException.class, () -> Harness.onRanks(1, Device.CPU, Precision.F32,
                    ctx -> VocabParallelEmbedding.load(weights, "emb", 60, 4, 8, ctx, Tokens.REPLICATED)));
            assertTrue(e.getMessage().contains("emb") && e.getMessage().contains(Arrays.toString(new long[] {50, 4}))
                    && e.getMessage().contains(Arrays.toString(new long[] {60, 4})), e.getMessage());
        }
    }
}
