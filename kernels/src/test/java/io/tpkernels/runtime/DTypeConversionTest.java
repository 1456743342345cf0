package io.tpkernels.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.IntFunction;
import java.util.function.ToIntFunction;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * The F16 and BF16 conversions, checked exhaustively over all 65536 bit patterns of each format: exact
 * round trips, round-to-nearest-even at every midpoint between neighbours, NaN and infinities preserved.
 * The expected values come from arithmetic on the neighbours, not from the code under test.
 */
class DTypeConversionTest {

    private static boolean isNaN16(int bits, int exponentMask) {
        return (bits & exponentMask) == exponentMask && (bits & (exponentMask ^ 0x7FFF)) != 0;
    }

    private static void roundTripsEveryPattern(IntFunction<Float> widen, ToIntFunction<Float> narrow, int expMask) {
        for (int b = 0; b < 65536; b++) {
            float f = widen.apply(b);
            int back = narrow.applyAsInt(f) & 0xFFFF;
            if (isNaN16(b, expMask)) {
                assertTrue(Float.isNaN(f), "pattern 0x" + Integer.toHexString(b) + " widens to NaN");
                assertTrue(isNaN16(back, expMask), "NaN 0x" + Integer.toHexString(b) + " stays NaN");
                assertEquals(b & 0x8000, back & 0x8000, "NaN keeps its sign");
            } else {
                assertEquals(b, back, "pattern 0x" + Integer.toHexString(b) + " round-trips through f32");
            }
        }
    }

    /**
     * For every pair of neighbours (b, b+1) of one sign with both finite, the exact midpoint (representable
     * in f32 since both formats have at most 11 significand bits) rounds to whichever has an even last bit,
     * and the f32 values just below and just above it round to the nearer neighbour.
     */
    private static void roundsMidpointsToEven(IntFunction<Float> widen, ToIntFunction<Float> narrow, int expMask) {
        int checked = 0;
        for (int sign = 0; sign <= 0x8000; sign += 0x8000) {
            for (int m = 0; m < 0x7FFF; m++) {
                int lo = sign | m;
                int hi = sign | (m + 1);
                if ((lo & expMask) == expMask || (hi & expMask) == expMask) { // NaN or infinity: see infinitiesAndOverflow
                    continue;
                }
                double a = widen.apply(lo);
                double b = widen.apply(hi);
                float mid = (float) ((a + b) / 2);
                assertEquals((a + b) / 2, mid, 0.0, "midpoint exact in f32");
                int even = (lo & 1) == 0 ? lo : hi;
                assertEquals(even, narrow.applyAsInt(mid) & 0xFFFF,
                        "midpoint of 0x" + Integer.toHexString(lo) + " and 0x" + Integer.toHexString(hi) + " goes to even");
                float towardLo = Math.nextAfter(mid, a);
                float towardHi = Math.nextAfter(mid, b);
                assertEquals(lo, narrow.applyAsInt(towardLo) & 0xFFFF, "just toward 0x" + Integer.toHexString(lo));
                assertEquals(hi, narrow.applyAsInt(towardHi) & 0xFFFF, "just toward 0x" + Integer.toHexString(hi));
                checked++;
            }
        }
        assertTrue(checked > 60000, "checked " + checked + " neighbour pairs");
    }

    @Test
    void bf16RoundTripsEveryBitPattern() {
        roundTripsEveryPattern(b -> DType.bf16BitsToFloat((short) b), DType::floatToBf16Bits, 0x7F80);
    }

    @Test
    void f16RoundTripsEveryBitPattern() {
        roundTripsEveryPattern(b -> DType.f16BitsToFloat((short) b), DType::floatToF16Bits, 0x7C00);
    }

    @Test
    void bf16RoundsEveryMidpointToEven() {
        roundsMidpointsToEven(b -> DType.bf16BitsToFloat((short) b), DType::floatToBf16Bits, 0x7F80);
    }

    @Test
    void f16RoundsEveryMidpointToEven() {
        roundsMidpointsToEven(b -> DType.f16BitsToFloat((short) b), DType::floatToF16Bits, 0x7C00);
    }

    @Test
    void infinitiesAndOverflow() {
        assertEquals(0x7F80, DType.floatToBf16Bits(Float.POSITIVE_INFINITY) & 0xFFFF);
        assertEquals(0xFF80, DType.floatToBf16Bits(Float.NEGATIVE_INFINITY) & 0xFFFF);
        assertEquals(0x7C00, DType.floatToF16Bits(Float.POSITIVE_INFINITY) & 0xFFFF);
        assertEquals(0xFC00, DType.floatToF16Bits(Float.NEGATIVE_INFINITY) & 0xFFFF);
        // Float.MAX_VALUE lies above the midpoint between bf16's largest finite value and infinity.
        assertEquals(0x7F80, DType.floatToBf16Bits(Float.MAX_VALUE) & 0xFFFF);
        assertEquals(0x7C00, DType.floatToF16Bits(65520f) & 0xFFFF, "f16: 65520 is the midpoint to infinity, odd max");
        assertEquals(0x7BFF, DType.floatToF16Bits(65519f) & 0xFFFF);
        assertTrue(Float.isNaN(DType.bf16BitsToFloat(DType.floatToBf16Bits(Float.NaN))));
        assertTrue(Float.isNaN(DType.bf16BitsToFloat(DType.floatToBf16Bits(Float.intBitsToFloat(0x7F800001)))),
                "a NaN whose payload lies only in the low bits must not truncate to infinity");
    }

    /** For any f32, the bf16 result is a nearest representable value, ties to even. */
    @Property(tries = 20000)
    void bf16IsNearestTiesToEven(@ForAll int bits) {
        checkBf16Rounding(bits);
    }

    /** The midpoint between the largest bf16 (0x7F7F) and 2^128: a tie that goes to the even pattern, infinity. */
    @Example
    void theOverflowMidpointRoundsToInfinity() {
        checkBf16Rounding(0x7F7F8000);
        checkBf16Rounding(0xFF7F8000);
        assertEquals(0x7F80, DType.floatToBf16Bits(Float.intBitsToFloat(0x7F7F8000)) & 0xFFFF);
        assertEquals(0x7F7F, DType.floatToBf16Bits(Float.intBitsToFloat(0x7F7F7FFF)) & 0xFFFF);
    }

    private static void checkBf16Rounding(int bits) {
        float f = Float.intBitsToFloat(bits);
        if (Float.isNaN(f) || Float.isInfinite(f)) {
            return;
        }
        int r = DType.floatToBf16Bits(f) & 0xFFFF;
        // A finite f from the midpoint between the largest bf16 and 2^128 up rounds to infinity, as IEEE says:
        // measure that result as 2^128, the value its exponent pattern stands for, so the tie rule applies.
        double v = (r & 0x7FFF) == 0x7F80 ? Math.copySign(0x1p128, f) : DType.bf16BitsToFloat((short) r);
        double error = Math.abs(f - v);
        for (int neighbour : new int[] {r - 1, r + 1}) {
            if ((neighbour & 0x7FFF) >= 0x7F80 || ((neighbour ^ r) & 0x8000) != 0 || neighbour < 0) {
                continue;
            }
            double w = DType.bf16BitsToFloat((short) neighbour);
            double other = Math.abs(f - w);
            assertTrue(error <= other, f + " -> " + v + " but " + w + " is nearer");
            if (error == other) {
                assertEquals(0, r & 1, f + " is a tie and must go to the even pattern");
            }
        }
    }

    @Test
    void elementAccessByDtype() {
        try (Tensor t = Tensor.ofFloats(DType.BF16, new float[] {1.5f, -2.25f, 3e38f}, 3)) {
            float[] back = t.toFloatArray();
            assertEquals(1.5f, back[0]);
            assertEquals(-2.25f, back[1]);
            assertTrue(Float.isInfinite(back[2]) || back[2] > 2.9e38f);
        }
        try (Tensor t = Tensor.ofLongs(DType.I64, new long[] {-1, 1L << 40}, 2)) {
            assertEquals(1L << 40, DType.I64.getLong(t.hostSegment(), 1));
        }
    }
}
