package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.testing.EmbeddingReference;
import io.tpkernels.testing.Poison;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class EmbeddingLookupCpuTest {

    private static final DType[] WEIGHT_DTYPES = {DType.F32, DType.F16, DType.BF16};

    /** Random ids over [0, V) with the shard's edges and their neighbours mixed in. */
    static long[] ids(SplittableRandom r, int tokens, VocabShard shard) {
        long[] edges = {shard.start() - 1, shard.start(), shard.start() + shard.validRows() - 1,
            shard.start() + shard.validRows(), 0, shard.vocabSize() - 1};
        long[] ids = new long[tokens];
        for (int t = 0; t < tokens; t++) {
            long e = edges[r.nextInt(edges.length)];
            ids[t] = r.nextBoolean() && e >= 0 && e < shard.vocabSize() ? e : r.nextLong(shard.vocabSize());
        }
        return ids;
    }

    @Property(tries = 120)
    void matchesTheNaiveReference(@ForAll @IntRange(min = 1, max = 3000) int vocab, @ForAll @IntRange(min = 1, max = 8) int tp,
                                  @ForAll @IntRange(min = 0, max = 7) int rankSeed, @ForAll @IntRange(min = 1, max = 64) int multiple,
                                  @ForAll @IntRange(min = 1, max = 80) int tokens, @ForAll @IntRange(min = 1, max = 37) int h,
                                  @ForAll @IntRange(min = 0, max = 2) int dtypeIndex, @ForAll boolean i64, @ForAll long seed) {
        VocabShard shard = VocabShard.of(vocab, tp, rankSeed % tp, multiple);
        SplittableRandom r = new SplittableRandom(seed);
        long[] ids = ids(r, tokens, shard);
        DType dtype = WEIGHT_DTYPES[dtypeIndex];
        try (Tensor idT = Tensor.ofLongs(i64 ? DType.I64 : DType.I32, ids, tokens);
             Tensor w = EmbeddingReference.randomWeight(dtype, seed, (int) shard.validRows(), h);
             Tensor out = Poison.poison(Tensor.allocate(Device.CPU, dtype, tokens, h))) {
            // Into NaN bytes, not fresh zeros: a masked row that is not zero-filled fails.
            EmbeddingLookup.masked(ExecutionContext.defaultFor(idT.device()), idT, w, shard.start(), shard.validRows(), shard.vocabSize(), out);
            float[][] expected = EmbeddingReference.masked(ids, EmbeddingReference.rows(w), h, shard.start(), shard.validRows());
            float[][] actual = EmbeddingReference.rows(out);
            for (int t = 0; t < tokens; t++) {
                assertArrayEquals(expected[t], actual[t], 0f, "token " + t + " id " + ids[t] + " of " + shard);
            }
        }
    }

    @Test
    void oneTokenGathersItsRowOrZerosByHand() {
        // vocab 10 over tp 2: rank 1 holds ids 5..9 as rows 0..4; H = 3.
        VocabShard shard = VocabShard.of(10, 2, 1, 1);
        float[] rows = {1.5f, -2f, 3f, /* id 6 */ -0.25f, 8f, 0.5f, 7f, 7f, 7f, 9f, 9f, 9f, -1f, -1f, -1f};
        try (Tensor w = Tensor.ofFloats(DType.F32, rows, 5, 3);
             Tensor contained = Tensor.ofLongs(DType.I64, new long[] {6}, 1);
             Tensor elsewhere = Tensor.ofLongs(DType.I32, new long[] {4}, 1);
             Tensor out = Poison.poison(Tensor.allocate(Device.CPU, DType.F32, 1, 3))) {
            EmbeddingLookup.masked(ExecutionContext.defaultFor(contained.device()), contained, w, shard.start(), shard.validRows(), 10, out);
            assertArrayEquals(new float[] {-0.25f, 8f, 0.5f}, out.toFloatArray());
            Poison.poison(out);
            EmbeddingLookup.masked(ExecutionContext.defaultFor(elsewhere.device()), elsewhere, w, shard.start(), shard.validRows(), 10, out);
            assertArrayEquals(new float[] {0f, 0f, 0f}, out.toFloatArray());
        }
    }

    @Test
    void aShardWithoutRealRowsWritesZeros() {
        VocabShard empty = VocabShard.of(10, 4, 3, 4);
        try (Tensor ids = Tensor.ofLongs(DType.I32, new long[] {0, 9, 5}, 3);
             Tensor w = Tensor.allocate(Device.CPU, DType.BF16, 0, 8);
             Tensor out = Poison.poison(Tensor.allocate(Device.CPU, DType.BF16, 3, 8))) {
            EmbeddingLookup.masked(ExecutionContext.defaultFor(ids.device()), ids, w, empty.start(), empty.validRows(), 10, out);
            for (float v : out.toFloatArray()) {
                assertEquals(0f, v);
            }
        }
    }

    @Test
    void theHiddenParallelLookupGathersAllRowsOfAColumnSlice() {
        long[] idValues = {6, 0, 3, 3};
        try (Tensor w = EmbeddingReference.randomWeight(DType.F32, 3, 7, 5);
             Tensor ids = Tensor.ofLongs(DType.I64, idValues, 4);
             Tensor out = EmbeddingLookup.hiddenParallel(ExecutionContext.defaultFor(ids.device()), ids, w);
             Tensor into = Poison.poison(Tensor.allocate(Device.CPU, DType.F32, 4, 5));
             Tensor badIds = Tensor.ofLongs(DType.I32, new long[] {2, 7}, 2)) {
            EmbeddingLookup.plain(ExecutionContext.defaultFor(ids.device()), ids, w, into);
            float[][] rows = EmbeddingReference.rows(w);
            for (float[][] got : new float[][][] {EmbeddingReference.rows(out), EmbeddingReference.rows(into)}) {
                for (int t = 0; t < idValues.length; t++) {
                    assertArrayEquals(rows[(int) idValues[t]], got[t], "token " + t);
                }
            }
            var e = assertThrows(IllegalArgumentException.class, () -> EmbeddingLookup.plain(ExecutionContext.defaultFor(badIds.device()), badIds, w, into.rows(0, 2)));
            assertEquals("embedding lookup: token id 7 at position 1 is outside [0, 7)", e.getMessage());
        }
    }

    @Test
    void badIdsAreCaughtEvenWhenRowsAreEmpty() {
        // H = 0: nothing to copy, and still no silent pass for a bad id.
        try (Tensor ids = Tensor.ofLongs(DType.I32, new long[] {1, 99, -1}, 3);
             Tensor w = Tensor.allocate(Device.CPU, DType.BF16, 50, 0);
             Tensor out = Tensor.allocate(Device.CPU, DType.BF16, 3, 0)) {
            var e = assertThrows(IllegalArgumentException.class, () -> EmbeddingLookup.masked(ExecutionContext.defaultFor(ids.device()), ids, w, 0, 50, 100, out));
            assertEquals("embedding lookup: token id -1 at position 2 is outside [0, 100)", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> EmbeddingLookup.plain(ExecutionContext.defaultFor(ids.device()), ids, w, out));
            assertEquals("embedding lookup: token id 99 at position 1 is outside [0, 50)", e.getMessage());
        }
    }

    @Test
    void aBadIdNamesTheFirstOffendingPositionAndLeavesTheOutputUntouched() {
        VocabShard shard = VocabShard.of(100, 2, 0, 1);
        try (Tensor ids = Tensor.ofLongs(DType.I64, new long[] {5, 7, 100, -3, 250}, 5);
             Tensor w = EmbeddingReference.randomWeight(DType.F32, 1, 50, 4);
             Tensor out = Poison.poison(Tensor.allocate(Device.CPU, DType.F32, 5, 4))) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> EmbeddingLookup.masked(ExecutionContext.defaultFor(ids.device()), ids, w, shard.start(), shard.validRows(), 100, out));
            assertEquals("embedding lookup: token id 100 at position 2 is outside [0, 100)", e.getMessage());
            for (float v : out.toFloatArray()) {
                assertTrue(Float.isNaN(v), "nothing written");
            }
        }
        try (Tensor ids = Tensor.ofLongs(DType.I32, new long[] {-1}, 1);
             Tensor w = EmbeddingReference.randomWeight(DType.F32, 1, 50, 4)) {
            var e = assertThrows(IllegalArgumentException.class, () -> EmbeddingLookup.masked(ExecutionContext.defaultFor(ids.device()), ids, w, 0, 50, 100));
            assertTrue(e.getMessage().contains("token id -1 at position 0"), e.getMessage());
        }
    }

    @Test
    void shapesDtypesAndShardsAreChecked() {
        try (Tensor ids = Tensor.ofLongs(DType.I32, new long[] {1, 2}, 2);
             Tensor f = Tensor.allocate(Device.CPU, DType.F32, 2);
             Tensor w = Tensor.allocate(Device.CPU, DType.F32, 10, 4);
             Tensor wrongOut = Tensor.allocate(Device.CPU, DType.F32, 2, 5)) {
            assertMessage(() -> EmbeddingLookup.masked(ExecutionContext.defaultFor(f.device()), f, w, 0, 10, 10), "ids must be I32 or I64 of shape [T], got [2] F32");
            assertMessage(() -> EmbeddingLookup.masked(ExecutionContext.defaultFor(ids.device()), ids, w, 0, 9, 10), "must hold the 9 valid rows");
            assertMessage(() -> EmbeddingLookup.masked(ExecutionContext.defaultFor(ids.device()), ids, w, 5, 10, 10), "shard start 5 and valid 10 do not fit in vocab 10");
            assertMessage(() -> EmbeddingLookup.masked(ExecutionContext.defaultFor(ids.device()), ids, w, 0, 10, 10, wrongOut), "out must be [2, 4] F32 on cpu, got [2, 5]");
            assertMessage(() -> EmbeddingLookup.plain(ExecutionContext.defaultFor(ids.device()), ids, w, wrongOut), "out must be [2, 4] F32 on cpu, got [2, 5]");
            assertMessage(() -> EmbeddingLookup.hiddenParallel(ExecutionContext.defaultFor(ids.device()), ids, f), "weight must be F32, F16 or BF16 of shape [rows, H]");
            try (Tensor noRows = Tensor.allocate(Device.CPU, DType.F32, 0, 4)) {
                assertMessage(() -> EmbeddingLookup.hiddenParallel(ExecutionContext.defaultFor(ids.device()), ids, noRows), "a plain lookup needs a weight with rows");
            }
        }
    }

    private static void assertMessage(Runnable r, String fragment) {
        var e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }
}
