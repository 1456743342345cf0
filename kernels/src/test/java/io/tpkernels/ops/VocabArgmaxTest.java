package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Tensor;
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
        try (Tensor l = Tensor.ofFloats(DType.F32, logits, 2, 6); VocabArgmax.Local r = VocabArgmax.local(l, 4, 100)) {
            assertArrayEquals(new float[] {5, -1}, r.values().toFloatArray());
            assertEquals(101, DType.I64.getLong(r.ids().hostSegment(), 0));
            assertEquals(101, DType.I64.getLong(r.ids().hostSegment(), 1));
        }
    }

    @Test
    void paddingNeverWinsEvenWhenEveryRealLogitIsMinusInfinity() {
        float[] logits = {NEG, NEG, NEG, NEG};
        try (Tensor l = Tensor.ofFloats(DType.F32, logits, 1, 4); VocabArgmax.Local r = VocabArgmax.local(l, 2, 10)) {
            assertEquals(10, DType.I64.getLong(r.ids().hostSegment(), 0), "a real column, not padding");
        }
        try (Tensor l = Tensor.ofFloats(DType.F32, logits, 1, 4); VocabArgmax.Local r = VocabArgmax.local(l, 0, 10)) {
            assertEquals(VocabArgmax.NO_ID, DType.I64.getLong(r.ids().hostSegment(), 0));
        }
    }

    @Test
    void aNanIsSurfacedNotHidden() {
        try (Tensor l = Tensor.ofFloats(DType.F32, new float[] {1, Float.NaN, 3}, 1, 3);
             VocabArgmax.Local r = VocabArgmax.local(l, 3, 0)) {
            assertEquals(1, DType.I64.getLong(r.ids().hostSegment(), 0));
        }
    }

    @Test
    void ranksCombineByValueThenSmallestGlobalId() {
        // Two ranks of S = 3: rank 0 ids 0..2, rank 1 ids 3..5 (valid 2, one padding column).
        try (Tensor l0 = Tensor.ofFloats(DType.F32, new float[] {1, 7, 2, /* t1 */ 4, 4, 0}, 2, 3);
             Tensor l1 = Tensor.ofFloats(DType.F32, new float[] {7, 3, NEG, /* t1 */ 9, 1, NEG}, 2, 3);
             VocabArgmax.Local r0 = VocabArgmax.local(l0, 3, 0);
             VocabArgmax.Local r1 = VocabArgmax.local(l1, 2, 3)) {
            long[] ids = VocabArgmax.combine(List.of(r1, r0));
            assertArrayEquals(new long[] {1, 3}, ids, "token 0: 7 at ids 1 and 3 goes to 1; token 1: 9 at id 3");
        }
        assertTrue(VocabArgmax.beats(1f, 9, 1f, 10));
        assertTrue(VocabArgmax.beats(0f, 5, -0f, 1), "+0 above -0, as Float.compare orders them");
    }

    /** The packed form holds exactly what {@code local} returns, for odd and even T (the values' alignment). */
    @Property(tries = 40)
    void thePackedResultUnpacksToTheLocalOne(@ForAll @IntRange(min = 1, max = 9) int t,
                                             @ForAll @IntRange(min = 1, max = 12) int s,
                                             @ForAll @IntRange(min = 0, max = 12) int valid, @ForAll long seed) {
        Assume.that(valid <= s);
        try (Tensor l = Tensor.ofFloats(DType.F32, RandomData.moderate(seed, t * s), t, s);
             VocabArgmax.Local expected = VocabArgmax.local(l, valid, 1000);
             Tensor packed = VocabArgmax.localPacked(l, valid, 1000);
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
