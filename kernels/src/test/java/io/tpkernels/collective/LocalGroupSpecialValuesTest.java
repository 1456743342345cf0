package io.tpkernels.collective;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Signed zeros and NaNs, bit for bit, as {@link ReduceOp} documents them: MAX is {@link Math#max} ({@code +0}
 * above {@code -0}, in either order; NaN wins), and a NaN result of SUM or MAX is the dtype's canonical quiet
 * NaN, whatever NaN payload or sign came in. Inputs and results are raw bits; the expected bits are written
 * here ({@link #expectedMaxBits}), per IEEE 754-2019 {@code maximum}, not taken from the group.
 */
class LocalGroupSpecialValuesTest {

    static final DType[] FLOATS = {DType.F32, DType.BF16, DType.F16};

    /** The canonical quiet NaN: sign clear, quiet bit set, no payload. */
    static int canonicalNan(DType d) {
        return switch (d) {
            case F32 -> 0x7FC0_0000;
            case BF16 -> 0x7FC0;
            case F16 -> 0x7E00;
            default -> throw new IllegalArgumentException(d.toString());
        };
    }

    /** Special values of each dtype, as bits: ±0, ±1, 2, ±infinity, and NaNs with payloads and either sign. */
    static int[] specials(DType d) {
        return switch (d) {
            case F32 -> new int[] {0x0000_0000, 0x8000_0000, 0x3F80_0000, 0xBF80_0000, 0x4000_0000, 0x7F80_0000,
                0xFF80_0000, 0x7FC0_0001, 0xFFC1_2345, 0x7FFF_FFFF};
            case BF16 -> new int[] {0x0000, 0x8000, 0x3F80, 0xBF80, 0x4000, 0x7F80, 0xFF80, 0x7FC1, 0xFFC1, 0x7FFF};
            case F16 -> new int[] {0x0000, 0x8000, 0x3C00, 0xBC00, 0x4000, 0x7C00, 0xFC00, 0x7E01, 0xFE01, 0x7FFF};
            default -> throw new IllegalArgumentException(d.toString());
        };
    }

    static boolean isNan(DType d, int bits) {
        return switch (d) {
            case F32 -> (bits & 0x7FFF_FFFF) > 0x7F80_0000;
            case BF16 -> (bits & 0x7FFF) > 0x7F80;
            default -> (bits & 0x7FFF) > 0x7C00;
        };
    }

    /** Orders non-NaN bits as their values, with -0 just below +0 (IEEE 754-2019 maximum's order). */
    private static long orderKey(DType d, int bits) {
        int signBit = d == DType.F32 ? 0x8000_0000 : 0x8000;
        long magnitude = bits & (signBit - 1) & (d == DType.F32 ? 0xFFFF_FFFFL : 0xFFFF);
        return (bits & signBit) != 0 ? -magnitude - 1 : magnitude;
    }

    /** IEEE 754-2019 maximum of the ranks' bits, in rank order: NaN anywhere gives the canonical NaN. */
    static int expectedMaxBits(DType d, int... bitsByRank) {
        int best = bitsByRank[0];
        for (int b : bitsByRank) {
            if (isNan(d, b)) {
                return canonicalNan(d);
            }
            if (orderKey(d, b) > orderKey(d, best)) {
                best = b;
            }
        }
        return best;
    }

    static Tensor fromBits(DType d, int[] bits) {
        Tensor t = Tensor.allocate(Device.CPU, d, bits.length);
        MemorySegment s = t.hostSegment();
        for (int i = 0; i < bits.length; i++) {
            if (d == DType.F32) {
                s.setAtIndex(JAVA_INT_UNALIGNED, i, bits[i]);
            } else {
                s.setAtIndex(JAVA_SHORT_UNALIGNED, i, (short) bits[i]);
            }
        }
        return t;
    }

    static int[] toBits(Tensor t) {
        try (Tensor host = t.copyTo(Device.CPU)) {
            MemorySegment s = host.hostSegment();
            int[] out = new int[(int) host.numel()];
            for (int i = 0; i < out.length; i++) {
                out[i] = t.dtype() == DType.F32 ? s.getAtIndex(JAVA_INT_UNALIGNED, i)
                        : s.getAtIndex(JAVA_SHORT_UNALIGNED, i) & 0xFFFF;
            }
            return out;
        }
    }

    /** Every rank's result bits of an all-reduce of {@code bitsByRank[r]} on {@code device}. */
    static List<int[]> allReduceBits(Device device, DType d, ReduceOp op, int[][] bitsByRank) {
        return LocalGroup.run(bitsByRank.length, g -> {
            try (Tensor host = fromBits(d, bitsByRank[g.rank()]); Tensor t = host.copyTo(device)) {
                g.allReduce(ExecutionContext.defaultFor(t.device()), t, op);
                return toBits(t);
            }
        });
    }

    /** Cases written out: {rank 0, rank 1, expected} for MAX over two ranks, as F32 bits. */
    static final int[][] F32_MAX_CASES = {
        {0x8000_0000, 0x0000_0000, 0x0000_0000}, // -0, +0 -> +0
        {0x0000_0000, 0x8000_0000, 0x0000_0000}, // +0, -0 -> +0
        {0x8000_0000, 0x8000_0000, 0x8000_0000}, // -0, -0 -> -0
        {0xBF80_0000, 0x8000_0000, 0x8000_0000}, // -1, -0 -> -0
        {0x7FC0_0001, 0x3F80_0000, 0x7FC0_0000}, // NaN(payload 1), 1 -> canonical NaN
        {0x3F80_0000, 0xFFC1_2345, 0x7FC0_0000}, // 1, -NaN(payload) -> canonical NaN
        {0xFF80_0000, 0x7FFF_FFFF, 0x7FC0_0000}, // -inf, NaN -> canonical NaN
    };

    /** Column {@code c} of the cases: rank 0's inputs, rank 1's, or the expected bits. */
    static int[] column(int c) {
        int[] col = new int[F32_MAX_CASES.length];
        for (int i = 0; i < col.length; i++) {
            col[i] = F32_MAX_CASES[i][c];
        }
        return col;
    }

    /** SUM inputs of two ranks whose sums are NaN but for the last: +inf + -inf, NaN + 1, -NaN + 1, +0 + -0. */
    static int[][] nanSumInputs(DType d) {
        int[] s = specials(d);
        return new int[][] {{s[5], s[7], s[8], s[0]}, {s[6], s[2], s[2], s[1]}};
    }

    static int[] nanSumExpected(DType d) {
        int nan = canonicalNan(d);
        return new int[] {nan, nan, nan, 0};
    }

    static void assertBits(int[] expected, int[] got, String what) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Integer.toHexString(expected[i]), Integer.toHexString(got[i]), what + ", element " + i);
        }
    }

    /** Every ordered pair of special values: rank 0 has {@code specials[i / n]}, rank 1 {@code specials[i % n]}. */
    static int[][] allPairs(DType d) {
        int[] s = specials(d);
        int[][] inputs = new int[2][s.length * s.length];
        for (int i = 0; i < s.length * s.length; i++) {
            inputs[0][i] = s[i / s.length];
            inputs[1][i] = s[i % s.length];
        }
        return inputs;
    }

    static int[] expectedMaxOfPairs(DType d, int[][] pairs) {
        int[] expected = new int[pairs[0].length];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = expectedMaxBits(d, pairs[0][i], pairs[1][i]);
        }
        return expected;
    }

    @Example
    void maxOfEveryPairOfSpecialValues() {
        for (DType d : FLOATS) {
            int[][] pairs = allPairs(d);
            List<int[]> got = allReduceBits(Device.CPU, d, ReduceOp.MAX, pairs);
            for (int r = 0; r < 2; r++) {
                assertBits(expectedMaxOfPairs(d, pairs), got.get(r), d + " on rank " + r);
            }
        }
    }

    @Example
    void writtenOutCasesOfMaxOnTwoRanks() {
        List<int[]> got = allReduceBits(Device.CPU, DType.F32, ReduceOp.MAX, new int[][] {column(0), column(1)});
        for (int r = 0; r < 2; r++) {
            assertBits(column(2), got.get(r), "rank " + r);
        }
    }

    @Example
    void aSumThatIsNanIsTheCanonicalNan() {
        // +inf + -inf is an invalid operation: x86 makes 0xFFC00000 of it, CUDA 0x7FFFFFFF; both store 0x7FC00000.
        for (DType d : FLOATS) {
            List<int[]> got = allReduceBits(Device.CPU, d, ReduceOp.SUM, nanSumInputs(d));
            for (int r = 0; r < 2; r++) {
                assertBits(nanSumExpected(d), got.get(r), d + " on rank " + r);
            }
        }
    }

    /** MAX of any special values of any float dtype on 2..6 ranks: the IEEE maximum's bits, canonical NaN. */
    @Property(tries = 60)
    void maxOfSpecialValuesIsIeeeMaximumBitForBit(@ForAll @IntRange(min = 0, max = 2) int dt,
            @ForAll @Size(min = 2, max = 6) List<@IntRange(min = 0, max = 9) Integer> first,
            @ForAll @Size(min = 2, max = 6) List<@IntRange(min = 0, max = 9) Integer> second) {
        DType d = FLOATS[dt];
        int ranks = first.size();
        int[] s = specials(d);
        int[][] inputs = new int[ranks][];
        for (int r = 0; r < ranks; r++) {
            inputs[r] = new int[] {s[first.get(r)], s[second.get(r % second.size())]};
        }
        List<int[]> got = allReduceBits(Device.CPU, d, ReduceOp.MAX, inputs);
        for (int e = 0; e < 2; e++) {
            int[] column = new int[ranks];
            for (int r = 0; r < ranks; r++) {
                column[r] = inputs[r][e];
            }
            int expected = expectedMaxBits(d, column);
            for (int r = 0; r < ranks; r++) {
                assertEquals(Integer.toHexString(expected), Integer.toHexString(got.get(r)[e]),
                        d + " element " + e + " on rank " + r + " of " + Arrays.toString(column));
            }
        }
    }
}
