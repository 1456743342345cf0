package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.testing.CrossEntropyReference;
import io.tpkernels.testing.RandomData;
import io.tpkernels.testing.RecordingGroup;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The vocab-parallel cross-entropy against the unsharded loss in double: loss within 1e-6 relative, the gradient
 * within 1e-6 relative of {@code (softmax − onehot)/N} (plus the smallest subnormal, for probabilities that
 * underflow F32) and of central differences of the loss, padding columns and ignored rows exactly 0, and exactly two
 * all-reduces in the forward, none in the backward.
 */
class VocabParallelCrossEntropyTest {
    private static final long IGNORE = VocabParallelCrossEntropy.IGNORE_INDEX;
    private static final double REL = 1e-6;

    /** What one rank saw: its shard, loss, count, gradient {@code [T, S]}, and the collectives of each pass. */
    private record Rank(VocabShard shard, double loss, long count, float[] dz, List<String> forward,
                        List<String> backward) {
    }

    /** Runs forward and backward on {@code tp} ranks of the logits {@code full [T, V]} split by {@link VocabShard}. */
    private static List<Rank> run(int tp, int multiple, int vocab, float[] full, long[] targets, double gradOutput) {
        int tokens = targets.length;
        return LocalGroup.run(tp, group -> {
            RecordingGroup recording = new RecordingGroup(group);
            VocabShard shard = VocabShard.of(vocab, tp, group.rank(), multiple);
            ExecutionContext ctx = ExecutionContext.cpu();
            try (Tensor z = Tensor.ofFloats(DType.F32, shardOf(full, tokens, shard), tokens, shard.shardSize());
                 Tensor y = Tensor.ofLongs(DType.I64, targets, tokens);
                 VocabParallelCrossEntropy.Forward f = VocabParallelCrossEntropy.forward(ctx, recording, shard, z, y)) {
                List<String> forward = List.copyOf(recording.calls);
                recording.calls.clear();
                try (Tensor dz = VocabParallelCrossEntropy.backward(ctx, f, z, y, gradOutput)) {
                    return new Rank(shard, f.loss(), f.count(), dz.toFloatArray(), forward, List.copyOf(recording.calls));
                }
            }
        });
    }

    /** Rank {@code shard}'s padded logits {@code [T, S]}: its valid columns of {@code full}, then −∞ as the LM head writes. */
    private static float[] shardOf(float[] full, int tokens, VocabShard shard) {
        int s = (int) shard.shardSize();
        int vocab = (int) shard.vocabSize();
        float[] out = new float[tokens * s];
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < s; j++) {
                out[t * s + j] = j < shard.validRows() ? full[t * vocab + (int) shard.start() + j] : Float.NEGATIVE_INFINITY;
            }
        }
        return out;
    }

    /** Targets in {@code [0, V)}, each ignored with probability {@code ignored / 100}. */
    private static long[] targets(long seed, int tokens, int vocab, int ignored) {
        SplittableRandom r = new SplittableRandom(seed);
        long[] y = new long[tokens];
        for (int t = 0; t < tokens; t++) {
            y[t] = r.nextInt(100) < ignored ? IGNORE : r.nextInt(vocab);
        }
        return y;
    }

    /** Loss, count, gradient and collectives of every rank against the double reference. */
    private static void check(List<Rank> ranks, float[] full, long[] targets, int vocab, double gradOutput) {
        double[] z = CrossEntropyReference.widen(full);
        long n = CrossEntropyReference.count(targets);
        double loss = CrossEntropyReference.loss(z, targets, vocab);
        double[] grad = CrossEntropyReference.gradient(z, targets, vocab);
        for (Rank r : ranks) {
            String where = "rank " + r.shard().rank() + " of " + r.shard();
            assertEquals(List.of("allReduce MAX", "allReduce SUM"), r.forward(), where + ": forward collectives");
            assertEquals(List.of(), r.backward(), where + ": backward collectives");
            assertEquals(n, r.count(), where);
            assertEquals(Double.doubleToRawLongBits(ranks.get(0).loss()), Double.doubleToRawLongBits(r.loss()),
                    where + ": the loss is the same on every rank");
            assertTrue(Math.abs(r.loss() - loss) <= REL * Math.abs(loss), where + ": loss " + r.loss() + " vs " + loss);
            int s = (int) r.shard().shardSize();
            for (int t = 0; t < targets.length; t++) {
                for (int j = 0; j < s; j++) {
                    float got = r.dz()[t * s + j];
                    if (j >= r.shard().validRows() || targets[t] == IGNORE) {
                        assertEquals(0, Float.floatToRawIntBits(got), where + ": dz[" + t + ", " + j + "] = " + got
                                + " in a padding column or an ignored row");
                        continue;
                    }
                    double want = gradOutput * grad[t * vocab + (int) r.shard().start() + j];
                    assertTrue(Math.abs(got - want) <= REL * Math.abs(want) + Math.ulp(0f),
                            where + ": dz[" + t + ", " + j + "] = " + got + " vs " + want);
                }
            }
        }
    }

    /** The rank's gradient of global column {@code v} of token {@code t}, from whichever rank holds it. */
    private static float gathered(List<Rank> ranks, int t, long v) {
        for (Rank r : ranks) {
            if (r.shard().contains(v)) {
                return r.dz()[(int) (t * r.shard().shardSize() + v - r.shard().start())];
            }
        }
        throw new AssertionError("no rank holds column " + v);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void matchesTheUnshardedLossAndCentralDifferencesWithAnUnevenVocab(int tp) {
        int vocab = 37;
        int multiple = 4;
        int tokens = 6;
        float[] full = RandomData.moderate(11 + tp, tokens * vocab);
        long[] targets = {3, IGNORE, 36, 0, 20, 12};
        List<Rank> ranks = run(tp, multiple, vocab, full, targets, 1.0);
        assertTrue(ranks.stream().anyMatch(r -> r.shard().paddingRows() > 0), "padding columns on some rank");
        check(ranks, full, targets, vocab, 1.0);

        double[] z = CrossEntropyReference.widen(full);
        double h = 1e-5;
        for (int t = 0; t < tokens; t++) {
            for (int v = 0; v < vocab; v++) {
                double keep = z[t * vocab + v];
                z[t * vocab + v] = keep + h;
                double up = CrossEntropyReference.loss(z, targets, vocab);
                z[t * vocab + v] = keep - h;
                double down = CrossEntropyReference.loss(z, targets, vocab);
                z[t * vocab + v] = keep;
                double fd = (up - down) / (2 * h);
                float got = gathered(ranks, t, v);
                assertTrue(Math.abs(got - fd) <= REL * Math.abs(fd) + 1e-9,
                        "tp " + tp + ": dz[" + t + ", " + v + "] = " + got + ", central difference " + fd);
            }
        }
    }

    @Property(tries = 200)
    void anyShapeMatchesTheReference(@ForAll @IntRange(min = 1, max = 4) int tp,
                                     @ForAll @IntRange(min = 1, max = 8) int multiple,
                                     @ForAll @IntRange(min = 1, max = 40) int vocab,
                                     @ForAll @IntRange(min = 1, max = 6) int tokens,
                                     @ForAll @IntRange(min = 0, max = 60) int ignored,
                                     @ForAll long seed) {
        float[] full = RandomData.moderate(seed, tokens * vocab);
        long[] targets = targets(seed, tokens, vocab, ignored);
        if (CrossEntropyReference.count(targets) == 0) {
            targets[0] = vocab - 1;
        }
        check(run(tp, multiple, vocab, full, targets, 1.0), full, targets, vocab, 1.0);
    }

    @Test
    void logitsOfEveryMagnitudeStayFiniteAndAccurate() {
        int vocab = 50;
        int tokens = 8;
        float[] full = RandomData.floats(5, tokens * vocab); // up to a few hundred: exp would overflow unshifted
        long[] targets = targets(6, tokens, vocab, 0);
        List<Rank> ranks = run(3, 8, vocab, full, targets, 1.0);
        assertTrue(Double.isFinite(ranks.get(0).loss()));
        check(ranks, full, targets, vocab, 1.0);
    }

    @Test
    void aConfidentRightPredictionKeepsItsTinyLossAccurate() {
        int vocab = 30;
        int tokens = 4;
        float[] full = RandomData.moderate(7, tokens * vocab);
        long[] targets = {29, 3, 17, 14};
        for (int t = 0; t < tokens; t++) {
            full[t * vocab + (int) targets[t]] = 24f + t; // the others are below 8: a loss under 1e-5
        }
        List<Rank> ranks = run(2, 4, vocab, full, targets, 1.0);
        assertTrue(ranks.get(0).loss() < 1e-5 && ranks.get(0).loss() > 0, "loss " + ranks.get(0).loss());
        check(ranks, full, targets, vocab, 1.0);
    }

    @Test
    void theUpstreamGradientScalesDzAndEqualMaximaCountOnce() {
        int vocab = 21;
        int tokens = 3;
        float[] full = RandomData.moderate(8, tokens * vocab);
        full[2] = 12f; // token 0: the maximum twice, on two ranks (S = 12 at tp 2, m = 4)
        full[15] = 12f;
        long[] targets = {15, 4, IGNORE};
        check(run(2, 4, vocab, full, targets, 0.25), full, targets, vocab, 0.25);
    }

    @Test
    void everyTokenIgnoredGivesANanLossAndAZeroGradient() {
        int vocab = 13;
        int tokens = 3;
        float[] full = RandomData.moderate(9, tokens * vocab);
        long[] targets = {IGNORE, IGNORE, IGNORE};
        for (Rank r : run(2, 4, vocab, full, targets, 1.0)) {
            assertTrue(Double.isNaN(r.loss()), "mean over no token: NaN, as PyTorch, got " + r.loss());
            assertEquals(0, r.count());
            assertEquals(List.of("allReduce MAX", "allReduce SUM"), r.forward());
            for (float g : r.dz()) {
                assertEquals(0, Float.floatToRawIntBits(g), "dz " + g);
            }
        }
    }

    @Test
    void aNanLogitMakesTheLossNanUnlessItsRowIsIgnored() {
        int vocab = 11;
        int tokens = 3;
        float[] full = RandomData.moderate(12, tokens * vocab);
        full[vocab + 9] = Float.NaN; // token 1, held by rank 1 at tp 2 (S = 8)
        long[] counted = {2, 5, 7};
        for (Rank r : run(2, 4, vocab, full, counted, 1.0)) {
            assertTrue(Double.isNaN(r.loss()), "a NaN logit is seen, got " + r.loss());
        }
        long[] ignored = {2, IGNORE, 7};
        check(run(2, 4, vocab, full, ignored, 1.0), full, ignored, vocab, 1.0);
    }

    @Test
    void aTargetOutsideTheVocabularyIsAnErrorNamingItsPosition() {
        float[] full = RandomData.moderate(10, 3 * 10);
        for (long bad : new long[] {10, -1, -101}) {
            long[] targets = {1, IGNORE, bad};
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> run(2, 4, 10, full, targets, 1.0));
            assertTrue(e.getMessage().contains("target " + bad + " at position 2 is outside [0, 10)"), e.getMessage());
        }
    }

    @Test
    void logitsOfAnotherShardSizeAreRefused() {
        VocabShard shard = VocabShard.of(10, 1, 0, 4);
        try (Tensor z = Tensor.ofFloats(DType.F32, RandomData.moderate(1, 20), 2, 10);
             Tensor y = Tensor.ofLongs(DType.I64, new long[] {1, 2}, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LocalGroup.run(1,
                    g -> VocabParallelCrossEntropy.forward(ExecutionContext.cpu(), g, shard, z, y)));
            assertTrue(e.getMessage().contains("[T, 12]"), e.getMessage());
        }
    }
}
