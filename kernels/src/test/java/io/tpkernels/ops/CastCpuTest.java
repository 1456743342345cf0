package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.RandomData;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** The CPU cast against a naive element-by-element reference built from DType's scalar conversions. */
class CastCpuTest {

    private static final DType[] FLOATS = {DType.F32, DType.F16, DType.BF16};

    private static float reference(float x, DType to) {
        return switch (to) {
            case F32 -> x;
            case F16 -> DType.f16BitsToFloat(DType.floatToF16Bits(x));
            case BF16 -> DType.bf16BitsToFloat(DType.floatToBf16Bits(x));
            default -> throw new AssertionError(to);
        };
    }

    @Property(tries = 60)
    void matchesTheScalarReference(@ForAll @IntRange(min = 0, max = 2) int from, @ForAll @IntRange(min = 0, max = 2) int to,
                                   @ForAll @IntRange(min = 0, max = 3000) int n, @ForAll long seed) {
        float[] values = RandomData.floats(seed, n);
        try (Tensor src = Tensor.ofFloats(FLOATS[from], values, n); Tensor dst = Cast.to(ExecutionContext.defaultFor(src.device()), src, FLOATS[to])) {
            float[] in = src.toFloatArray();
            float[] out = dst.toFloatArray();
            for (int i = 0; i < n; i++) {
                assertEquals(reference(in[i], FLOATS[to]), out[i], 0f, "element " + i);
            }
        }
    }

    /**
     * Every pair, with and without the Vector API, against the per-element {@code to.setFloat(out, i,
     * from.getFloat(in, i))} CastCpu used to run, byte for byte: raw bit patterns biased to NaNs, infinities,
     * zeros, subnormals, rounding ties and overflow; sizes around vector lengths and the staging chunk; a start
     * index inside the segments; byte offsets that are not aligned; bytes outside {@code [start, n)} untouched.
     */
    @Property(tries = 400)
    void loopsMatchThePerElementConversionBitForBit(
            @ForAll @IntRange(min = 0, max = 2) int from, @ForAll @IntRange(min = 1, max = 2) int toStep,
            @ForAll("sizes") int n, @ForAll @IntRange(min = 0, max = 40) int startWish,
            @ForAll @IntRange(min = 0, max = 7) int inOffset, @ForAll @IntRange(min = 0, max = 7) int outOffset,
            @ForAll boolean vectorApi, @ForAll long seed) {
        Assume.that(!vectorApi || CastCpu.VECTOR_API);
        DType f = FLOATS[from];
        DType t = FLOATS[(from + toStep) % 3];
        int start = Math.min(startWish, n);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(inOffset + (long) n * f.byteSize()).asSlice(inOffset);
            SplittableRandom random = new SplittableRandom(seed);
            for (int i = 0; i < n; i++) {
                int bits = floatBits(random);
                switch (f) {
                    case F32 -> in.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i, bits);
                    // bf16 is the top half of a float; f16 gets its own classes (exponent bits 10-14).
                    case BF16 -> in.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) (bits >>> 16));
                    default -> in.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, f16Bits(random));
                }
            }
            long outBytes = outOffset + (long) n * t.byteSize() + 64;
            MemorySegment actual = arena.allocate(outBytes).fill((byte) 0xA5);
            MemorySegment expected = arena.allocate(outBytes).fill((byte) 0xA5);
            CastCpu.convert(f, t, in, actual.asSlice(outOffset), start, n, vectorApi);
            for (int i = start; i < n; i++) {
                t.setFloat(expected.asSlice(outOffset), i, f.getFloat(in, i));
            }
            long at = expected.mismatch(actual);
            assertEquals(-1, at, () -> f + " to " + t + (vectorApi ? " (Vector API)" : "") + ", n " + n + ", start "
                    + start + ": first differing byte " + at + " (element " + (at - outOffset) / t.byteSize() + ")");
        }
    }

    @Provide
    Arbitrary<Integer> sizes() {
        // 0, 1, sizes around C2's vector lengths (4 to 32 lanes) and CastCpu's chunk (2048), then anything.
        return Arbitraries.oneOf(
                Arbitraries.of(0, 1, 2, 3, 7, 15, 16, 17, 31, 33, 63, 65, 127, 2047, 2048, 2049, 4097),
                Arbitraries.integers().between(0, 5000));
    }

    /** A float's bits: random, or forced into one of the classes random bits almost never reach. */
    private static int floatBits(SplittableRandom r) {
        int x = r.nextInt();
        return switch (r.nextInt(10)) {
            case 0 -> x | 0x7F80_0000; // NaN (quiet or signalling, any payload)
            case 1 -> x & 0xFF80_0000 | 0x7F80_0000; // ±infinity
            case 2 -> x & 0x807F_FFFF; // zero or subnormal
            case 3 -> x & 0xFFFF_0000 | 0x8000; // exactly half a bf16 ulp: a tie
            case 4 -> x & 0x8000_FFFF | 0x7F7F_0000; // near the largest float: rounding may overflow
            case 5 -> { // exactly between two adjacent finite f16 values (normal or subnormal): a tie
                short h = (short) (r.nextInt(0x7BFF) | (x & 0x8000));
                yield Float.floatToRawIntBits((Float.float16ToFloat(h) + Float.float16ToFloat((short) (h + 1))) / 2);
            }
            case 6 -> x & 0x8000_0000 | (103 + r.nextInt(40)) << 23 | x & 0x007F_FFFF; // around f16's range
            default -> x;
        };
    }

    /** An f16's bits: random, or NaN/infinity, or zero/subnormal. */
    private static short f16Bits(SplittableRandom r) {
        int x = r.nextInt();
        return (short) switch (r.nextInt(4)) {
            case 0 -> x | 0x7C00;
            case 1 -> x & 0x83FF;
            default -> x;
        };
    }

    @Test
    void coversEveryElementAcrossParallelBlocks() {
        int n = 3 * 65536 + 7; // several blocks and a ragged tail
        float[] values = RandomData.floats(7, n);
        try (Tensor src = Tensor.ofFloats(DType.F32, values, n);
             Tensor dst = Tensor.allocate(Device.CPU, DType.BF16, n)) {
            dst.fillBytes((byte) 0xFF);
            Cast.into(ExecutionContext.defaultFor(src.device()), src, dst);
            float[] out = dst.toFloatArray();
            for (int i = 0; i < n; i++) {
                assertEquals(reference(values[i], DType.BF16), out[i], 0f, "element " + i);
            }
        }
    }

    @Test
    void rejectsMismatchedOrIntegerTensors() {
        try (Tensor a = Tensor.allocate(Device.CPU, DType.F32, 4);
             Tensor b = Tensor.allocate(Device.CPU, DType.BF16, 5);
             Tensor i = Tensor.allocate(Device.CPU, DType.I32, 4)) {
            var e = assertThrows(IllegalArgumentException.class, () -> Cast.into(ExecutionContext.defaultFor(a.device()), a, b));
            assertTrue(e.getMessage().contains("[4]") && e.getMessage().contains("[5]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Cast.into(ExecutionContext.defaultFor(a.device()), a, i));
        }
    }
}
