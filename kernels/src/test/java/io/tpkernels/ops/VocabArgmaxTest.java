package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.RandomData;
import java.util.List;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class VocabArgmaxTest {

    private static final float NEG = Float.NEGATIVE_INFINITY;

    @Test
    void largestValueWinsAndTiesGoToTheSmallestId() {
        float[] logits = {1, 5, 5, 2, NEG, NEG,   // tie between columns 1 and 2: column 1
                          -3, -1, -2, -1, NEG, NEG};
        try (Tensor l = Tensor.ofFloats(DType.F32, logits, 2, 6); VocabArgmax.Local r = VocabArgmax.local(ExecutionContext.defaultFor(l.device()), l, 4, 100)) {
            assertArrayEquals(new float[] {5, -1}, r.values().toFloatArray());
            assertEquals(101, DType.I64.getLong(r.ids().hostSegment(), 0));
            assertEquals(101, DType.I64.getLong(r.ids().hostSegment(), 1));
        }
    }

    @Test
    void paddingNeverWinsEvenWhenEveryRealLogitIsMinusInfinity() {
        float[] logits = {NEG, NEG, NEG, NEG};
        try (Tensor l = Tensor.ofFloats(DType.F32, logits, 1, 4); VocabArgmax.Local r = VocabArgmax.local(ExecutionContext.defaultFor(l.device()), l, 2, 10)) {
            assertEquals(10, DType.I64.getLong(r.ids().hostSegment(), 0), "a real column, not padding");
        }
        try (Tensor l = Tensor.ofFloats(DType.F32, logits, 1, 4); VocabArgmax.Local r = VocabArgmax.local(ExecutionContext.defaultFor(l.device()), l, 0, 10)) {
            assertEquals(VocabArgmax.NO_ID, DType.I64.getLong(r.ids().hostSegment(), 0));
        }
    }

    @Test
    void aNanIsSurfacedNotHiddenAndNansTieToTheSmallestId() {
        float nan = Float.NaN;
        float[] logits = {1, nan, 3, Float.POSITIVE_INFINITY, /* t1 */ 2, nan, nan, 7, /* t2: NaN in padding */ 4, 1, 2, nan};
        try (Tensor l = Tensor.ofFloats(DType.F32, logits, 3, 4); VocabArgmax.Local r = VocabArgmax.local(ExecutionContext.defaultFor(l.device()), l, 3, 0)) {
            assertArrayEquals(new long[] {1, 1, 0}, ids(r));
            float[] values = r.values().toFloatArray();
            assertTrue(Float.isNaN(values[0]) && Float.isNaN(values[1]) && values[2] == 4, java.util.Arrays.toString(values));
        }
        assertTrue(VocabArgmax.beats(nan, 9, Float.POSITIVE_INFINITY, 1), "NaN above every number");
        assertFalse(VocabArgmax.beats(Float.POSITIVE_INFINITY, 1, nan, 9));
        assertTrue(VocabArgmax.beats(nan, 1, nan, 2), "NaNs tie: the smaller id");
        assertFalse(VocabArgmax.beats(nan, 2, nan, 1));
    }

    @Test
    void signedZerosTieAndTheSmallestIdKeepsItsOwnZero() {
        assertFalse(VocabArgmax.beats(0f, 5, -0f, 1), "+0 == -0: a tie, the smaller id wins");
        assertTrue(VocabArgmax.beats(-0f, 1, 0f, 5));
        assertTrue(VocabArgmax.beats(0f, 1, -0f, 5));
        float[] logits = {-1, -0f, 0f, -3, /* t1 */ -2, 0f, -0f, -0f, /* t2: +0 in padding */ -5, -0f, -1, 0f};
        try (Tensor l = Tensor.ofFloats(DType.F32, logits, 3, 4); VocabArgmax.Local r = VocabArgmax.local(ExecutionContext.defaultFor(l.device()), l, 3, 10)) {
            assertArrayEquals(new long[] {11, 11, 11}, ids(r));
            float[] values = r.values().toFloatArray();
            assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(values[0]), "the winner's -0");
            assertEquals(Float.floatToRawIntBits(0f), Float.floatToRawIntBits(values[1]), "the winner's +0");
            assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(values[2]), "the winner's -0");
        }
    }

    @Test
    void ranksCombineSignedZerosAsTies() {
        // Three ranks of S = 2 (ids 0-1, 2-3, 4-5). Token 0: +0 at id 4, -0 at id 3: 3. Token 1: -0 at 5, +0 at 1: 1.
        try (Tensor l0 = Tensor.ofFloats(DType.F32, new float[] {-1, -2, /* t1 */ -1, 0f}, 2, 2);
             Tensor l1 = Tensor.ofFloats(DType.F32, new float[] {-1, -0f, /* t1 */ -3, -4}, 2, 2);
             Tensor l2 = Tensor.ofFloats(DType.F32, new float[] {0f, -5, /* t1 */ -6, -0f}, 2, 2);
             VocabArgmax.Local r0 = VocabArgmax.local(ExecutionContext.defaultFor(l0.device()), l0, 2, 0);
             VocabArgmax.Local r1 = VocabArgmax.local(ExecutionContext.defaultFor(l1.device()), l1, 2, 2);
             VocabArgmax.Local r2 = VocabArgmax.local(ExecutionContext.defaultFor(l2.device()), l2, 2, 4)) {
            assertArrayEquals(new long[] {3, 1}, VocabArgmax.combine(List.of(r2, r0, r1)));
            assertArrayEquals(new long[] {3, 1}, VocabArgmax.combine(List.of(r0, r1, r2)));
        }
    }

    @Test
    void theGatheredPackedResultsCombineLikeTheRanksResults() {
        // Ranks of S = 2 packed and laid end to end as an all-gather along dimension 0 returns them.
        float[][] logits = {{-1, -2, /* t1 */ -1, 0f, /* t2 */ 7, 1}, {-1, -0f, /* t1 */ -3, -4, /* t2 */ 7, 9},
            {0f, -5, /* t1 */ -6, -0f, /* t2 */ Float.NaN, 2}};
        long t = 3;
        long n = VocabArgmax.packedLength(t);
        try (Tensor gathered = Tensor.allocate(io.tpkernels.runtime.Device.CPU, DType.I64, 3 * n)) {
            for (int r = 0; r < 3; r++) {
                try (Tensor l = Tensor.ofFloats(DType.F32, logits[r], t, 2);
                     Tensor packed = VocabArgmax.localPacked(ExecutionContext.defaultFor(l.device()), l, 2, 2L * r);
                     Tensor into = gathered.rows(r * n, (r + 1) * n)) {
                    into.copyFrom(packed);
                }
            }
            assertArrayEquals(new long[] {3, 1, 4}, VocabArgmax.combineGathered(gathered, 3, t),
                    "+0 and -0 tie to the smaller id; a NaN wins");
            assertThrows(IllegalArgumentException.class, () -> VocabArgmax.combineGathered(gathered, 2, t));
        }
    }

    @Test
    void bf16LogitsAreReadAsTheirValues() {
        // 1.00390625 is 1 + 2^-8, between two BF16 values: it rounds to 1, a tie with column 0.
        float[] logits = {1, 0.5f, 1.00390625f, -2, /* t1 */ -0.75f, 3.5f, 3.5f, 100};
        try (Tensor l = Tensor.ofFloats(DType.BF16, logits, 2, 4); VocabArgmax.Local r = VocabArgmax.local(ExecutionContext.defaultFor(l.device()), l, 3, 7)) {
            assertArrayEquals(new long[] {7, 8}, ids(r));
            assertArrayEquals(new float[] {1, 3.5f}, r.values().toFloatArray());
        }
    }

    /** BF16 logits against a naive scan of the same rounded values. */
    @Property(tries = 40)
    void bf16LogitsMatchANaiveScan(@ForAll @IntRange(min = 1, max = 6) int t, @ForAll @IntRange(min = 1, max = 300) int s,
                                   @ForAll @IntRange(min = 0, max = 300) int valid, @ForAll long seed) {
        Assume.that(valid <= s);
        try (Tensor l = Tensor.ofFloats(DType.BF16, RandomData.moderate(seed, t * s), t, s);
             VocabArgmax.Local r = VocabArgmax.local(ExecutionContext.defaultFor(l.device()), l, valid, 64)) {
            float[] rounded = l.toFloatArray();
            long[] expected = new long[t];
            for (int i = 0; i < t; i++) {
                expected[i] = VocabArgmax.NO_ID;
                float best = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < valid; j++) {
                    if (expected[i] == VocabArgmax.NO_ID || rounded[i * s + j] > best) { // strict: the first of equals
                        best = rounded[i * s + j];
                        expected[i] = 64 + j;
                    }
                }
            }
            assertArrayEquals(expected, ids(r));
        }
    }

    private static long[] ids(VocabArgmax.Local r) {
        long[] out = new long[(int) r.ids().numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = DType.I64.getLong(r.ids().hostSegment(), i);
        }
        return out;
    }

    @Test
    void ranksCombineByValueThenSmallestGlobalId() {
        // Two ranks of S = 3: rank 0 ids 0..2, rank 1 ids 3..5 (valid 2, one padding column).
        try (Tensor l0 = Tensor.ofFloats(DType.F32, new float[] {1, 7, 2, /* t1 */ 4, 4, 0}, 2, 3);
             Tensor l1 = Tensor.ofFloats(DType.F32, new float[] {7, 3, NEG, /* t1 */ 9, 1, NEG}, 2, 3);
             VocabArgmax.Local r0 = VocabArgmax.local(ExecutionContext.defaultFor(l0.device()), l0, 3, 0);
             VocabArgmax.Local r1 = VocabArgmax.local(ExecutionContext.defaultFor(l1.device()), l1, 2, 3)) {
            long[] ids = VocabArgmax.combine(List.of(r1, r0));
            assertArrayEquals(new long[] {1, 3}, ids, "token 0: 7 at ids 1 and 3 goes to 1; token 1: 9 at id 3");
        }
        assertTrue(VocabArgmax.beats(1f, 9, 1f, 10));
        assertFalse(VocabArgmax.beats(1f, 10, 1f, 9));
    }

    /** The packed form holds exactly what {@code local} returns, for odd and even T (the values' alignment). */
    @Property(tries = 40)
    void thePackedResultUnpacksToTheLocalOne(@ForAll @IntRange(min = 1, max = 9) int t,
                                             @ForAll @IntRange(min = 1, max = 12) int s,
                                             @ForAll @IntRange(min = 0, max = 12) int valid, @ForAll long seed) {
        Assume.that(valid <= s);
        try (Tensor l = Tensor.ofFloats(DType.F32, RandomData.moderate(seed, t * s), t, s);
             VocabArgmax.Local expected = VocabArgmax.local(ExecutionContext.defaultFor(l.device()), l, valid, 1000);
             Tensor packed = VocabArgmax.localPacked(ExecutionContext.defaultFor(l.device()), l, valid, 1000);
             VocabArgmax.Local got = VocabArgmax.unpack(packed, t)) {
            assertEquals(VocabArgmax.packedLength(t), packed.dim(0));
            assertArrayEquals(expected.values().toFloatArray(), got.values().toFloatArray());
            for (int i = 0; i < t; i++) {
                assertEquals(DType.I64.getLong(expected.ids().hostSegment(), i), DType.I64.getLong(got.ids().hostSegment(), i));
            }
            assertThrows(IllegalArgumentException.class, () -> VocabArgmax.unpack(packed, t + 1));
        }
    }
}
