package io.tpkernels.ops.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link DotKernels} with the Vector API. A vector of {@code L} floats holds {@code L} of the 16 {@link Lanes}; with
 * vectors narrower than 16 floats each kernel runs once per part of the lanes ({@code 16 / L} parts, k stepping
 * by 16 from the part's first lane), so the sums are the same bits whatever the vector width. In {@link #dot4x4}
 * 16 vector accumulators (4 rows of x × 4 rows of w) take 8 loads per 16 fused multiply-adds.
 * Loaded reflectively, only when {@code jdk.incubator.vector} is in the boot layer; its class fails to initialise
 * where vectors are narrower than 4 floats, and the scalar kernels run.
 *
 * <p>The vector width is the machine's preferred one, at most 512 bits, or narrower when the system property
 * {@code tpk.cpu.vectorBits} (128, 256 or 512) asks for it: how the narrower paths are tested on a wide machine.
 */
final class VectorDotKernels implements DotKernels {
    private static final VectorSpecies<Float> S = species();
    private static final int L = S.length();
    private static final VectorSpecies<Short> HALF = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, S.vectorShape());
    private static final int STEP = Lanes.COUNT;
    /** {@link #sum16}'s masks and shuffles, constants so that C2 makes each one instruction (16 floats only). */
    private static final VectorMask<Float> BIT3 = laneBit(8), BIT2 = laneBit(4), BIT1 = laneBit(2), BIT0 = laneBit(1);
    private static final VectorShuffle<Float> FLIP3 = flip(8), FLIP2 = flip(4), FLIP1 = flip(2), FLIP0 = flip(1);
    private static final VectorShuffle<Float> BIT_REVERSED = L == 16 ? VectorShuffle.fromOp(S, VectorDotKernels::reverse4) : null;

    private static VectorSpecies<Float> species() {
        int bits = Math.min(Math.min(FloatVector.SPECIES_PREFERRED.vectorBitSize(), 512),
                Integer.getInteger("tpk.cpu.vectorBits", 512));
        if (bits < 128) {
            throw new IllegalStateException("vectors of " + bits + " bits: the scalar kernels are as fast");
        }
        return VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
    }

    private static VectorMask<Float> laneBit(int bit) {
        long lanes = 0;
        for (int i = 0; i < L; i++) {
            lanes |= (i & bit) != 0 ? 1L << i : 0;
        }
        return L == 16 ? VectorMask.fromLong(S, lanes) : null;
    }

    private static VectorShuffle<Float> flip(int bit) {
        return L == 16 ? VectorShuffle.fromOp(S, i -> i ^ bit) : null;
    }

    private static int reverse4(int i) {
        return Integer.reverse(i) >>> 28;
    }

    @Override
    public void dot4x4(float[] x, int xOff, int ldx, float[] w, int wOff, int ldw, int kLen, float[] acc, int accOff) {
        for (int part = 0; part < STEP; part += L) {
            dot4x4Part(x, xOff, ldx, w, wOff, ldw, kLen, acc, accOff + part, part);
        }
    }

    /** The lanes {@code [part, part + L)} of {@link #dot4x4}; {@code acc} is offset to them already. */
    private static void dot4x4Part(float[] x, int xOff, int ldx, float[] w, int wOff, int ldw, int kLen, float[] acc,
                                   int a, int part) {
        FloatVector c00 = FloatVector.fromArray(S, acc, a), c01 = FloatVector.fromArray(S, acc, a + STEP);
        FloatVector c02 = FloatVector.fromArray(S, acc, a + 2 * STEP), c03 = FloatVector.fromArray(S, acc, a + 3 * STEP);
        FloatVector c10 = FloatVector.fromArray(S, acc, a + 4 * STEP), c11 = FloatVector.fromArray(S, acc, a + 5 * STEP);
        FloatVector c12 = FloatVector.fromArray(S, acc, a + 6 * STEP), c13 = FloatVector.fromArray(S, acc, a + 7 * STEP);
        FloatVector c20 = FloatVector.fromArray(S, acc, a + 8 * STEP), c21 = FloatVector.fromArray(S, acc, a + 9 * STEP);
        FloatVector c22 = FloatVector.fromArray(S, acc, a + 10 * STEP), c23 = FloatVector.fromArray(S, acc, a + 11 * STEP);
        FloatVector c30 = FloatVector.fromArray(S, acc, a + 12 * STEP), c31 = FloatVector.fromArray(S, acc, a + 13 * STEP);
        FloatVector c32 = FloatVector.fromArray(S, acc, a + 14 * STEP), c33 = FloatVector.fromArray(S, acc, a + 15 * STEP);
        int x0 = xOff, x1 = xOff + ldx, x2 = xOff + 2 * ldx, x3 = xOff + 3 * ldx;
        int w0 = wOff, w1 = wOff + ldw, w2 = wOff + 2 * ldw, w3 = wOff + 3 * ldw;
        for (int k = part; k < kLen; k += STEP) {
            FloatVector y0 = FloatVector.fromArray(S, w, w0 + k);
            FloatVector y1 = FloatVector.fromArray(S, w, w1 + k);
            FloatVector y2 = FloatVector.fromArray(S, w, w2 + k);
            FloatVector y3 = FloatVector.fromArray(S, w, w3 + k);
            FloatVector v = FloatVector.fromArray(S, x, x0 + k);
            c00 = v.fma(y0, c00); c01 = v.fma(y1, c01); c02 = v.fma(y2, c02); c03 = v.fma(y3, c03);
            v = FloatVector.fromArray(S, x, x1 + k);
            c10 = v.fma(y0, c10); c11 = v.fma(y1, c11); c12 = v.fma(y2, c12); c13 = v.fma(y3, c13);
            v = FloatVector.fromArray(S, x, x2 + k);
            c20 = v.fma(y0, c20); c21 = v.fma(y1, c21); c22 = v.fma(y2, c22); c23 = v.fma(y3, c23);
            v = FloatVector.fromArray(S, x, x3 + k);
            c30 = v.fma(y0, c30); c31 = v.fma(y1, c31); c32 = v.fma(y2, c32); c33 = v.fma(y3, c33);
        }
        c00.intoArray(acc, a); c01.intoArray(acc, a + STEP); c02.intoArray(acc, a + 2 * STEP); c03.intoArray(acc, a + 3 * STEP);
        c10.intoArray(acc, a + 4 * STEP); c11.intoArray(acc, a + 5 * STEP);
        c12.intoArray(acc, a + 6 * STEP); c13.intoArray(acc, a + 7 * STEP);
        c20.intoArray(acc, a + 8 * STEP); c21.intoArray(acc, a + 9 * STEP);
        c22.intoArray(acc, a + 10 * STEP); c23.intoArray(acc, a + 11 * STEP);
        c30.intoArray(acc, a + 12 * STEP); c31.intoArray(acc, a + 13 * STEP);
        c32.intoArray(acc, a + 14 * STEP); c33.intoArray(acc, a + 15 * STEP);
    }

    @Override
    public void dot1x4(float[] x, int xOff, float[] w, int wOff, int ldw, int kLen, float[] acc, int accOff) {
        for (int part = 0; part < STEP; part += L) {
            int a = accOff + part;
            FloatVector c0 = FloatVector.fromArray(S, acc, a), c1 = FloatVector.fromArray(S, acc, a + STEP);
            FloatVector c2 = FloatVector.fromArray(S, acc, a + 2 * STEP), c3 = FloatVector.fromArray(S, acc, a + 3 * STEP);
            int w0 = wOff, w1 = wOff + ldw, w2 = wOff + 2 * ldw, w3 = wOff + 3 * ldw;
            for (int k = part; k < kLen; k += STEP) {
                FloatVector v = FloatVector.fromArray(S, x, xOff + k);
                c0 = v.fma(FloatVector.fromArray(S, w, w0 + k), c0);
                c1 = v.fma(FloatVector.fromArray(S, w, w1 + k), c1);
                c2 = v.fma(FloatVector.fromArray(S, w, w2 + k), c2);
                c3 = v.fma(FloatVector.fromArray(S, w, w3 + k), c3);
            }
            c0.intoArray(acc, a); c1.intoArray(acc, a + STEP); c2.intoArray(acc, a + 2 * STEP); c3.intoArray(acc, a + 3 * STEP);
        }
    }

    /**
     * The 16 sums as one transposing tree: each {@link #fold} halves two vectors of partial sums into one, the
     * additions exactly {@link Lanes#sum}'s (l with l + 8, then + 4, + 2, + 1), so that after four levels lane
     * {@code i} holds sum {@code reverse4(i)}, put in order by one last shuffle. Each level is a loop through
     * {@code acc} rather than straight-line code: C2 stops inlining the Vector API's calls in a method with as many
     * of them as the unrolled tree has, and they then run boxed. With narrower vectors the sums are added one at a
     * time.
     */
    @Override
    public void sum16(float[] acc, int a, float[] sums, int sumsOff) {
        if (L != STEP) {
            for (int q = 0; q < 16; q++) {
                sums[sumsOff + q] = Lanes.sum(acc, a + q * STEP);
            }
            return;
        }
        for (int p = 0; p < 8; p++) { // in place: slot p is written after slots 2p and 2p + 1 are read
            fold(FloatVector.fromArray(S, acc, a + 2 * p * STEP), FloatVector.fromArray(S, acc, a + (2 * p + 1) * STEP),
                    BIT3, FLIP3).intoArray(acc, a + p * STEP);
        }
        for (int p = 0; p < 4; p++) {
            fold(FloatVector.fromArray(S, acc, a + 2 * p * STEP), FloatVector.fromArray(S, acc, a + (2 * p + 1) * STEP),
                    BIT2, FLIP2).intoArray(acc, a + p * STEP);
        }
        for (int p = 0; p < 2; p++) {
            fold(FloatVector.fromArray(S, acc, a + 2 * p * STEP), FloatVector.fromArray(S, acc, a + (2 * p + 1) * STEP),
                    BIT1, FLIP1).intoArray(acc, a + p * STEP);
        }
        fold(FloatVector.fromArray(S, acc, a), FloatVector.fromArray(S, acc, a + STEP), BIT0, FLIP0)
                .rearrange(BIT_REVERSED).intoArray(sums, sumsOff);
    }

    /**
     * Lane {@code i} of the result: {@code p[i] + p[i ^ bit]}, where {@code p} is {@code a} for the lanes whose
     * {@code bit} is clear and {@code b} for those where it is set; so each lane with the bit clear adds a pair of
     * {@code a}'s partial sums and each with it set a pair of {@code b}'s.
     */
    private static FloatVector fold(FloatVector a, FloatVector b, VectorMask<Float> bit, VectorShuffle<Float> flip) {
        return a.blend(b, bit).add(b.blend(a, bit).rearrange(flip));
    }

    @Override
    public void dot1x4Stored(float[] x, int xOff, MemorySegment w, long wOff, long ldw, boolean bf16, int kLen,
                             float[] acc, int accOff) {
        long size = bf16 ? 2 : 4;
        for (int part = 0; part < STEP; part += L) {
            int a = accOff + part;
            FloatVector c0 = FloatVector.fromArray(S, acc, a), c1 = FloatVector.fromArray(S, acc, a + STEP);
            FloatVector c2 = FloatVector.fromArray(S, acc, a + 2 * STEP), c3 = FloatVector.fromArray(S, acc, a + 3 * STEP);
            long w0 = wOff, w1 = wOff + ldw, w2 = wOff + 2 * ldw, w3 = wOff + 3 * ldw;
            for (int k = part; k < kLen; k += STEP) {
                FloatVector v = FloatVector.fromArray(S, x, xOff + k);
                long at = k * size;
                c0 = v.fma(stored(w, w0 + at, bf16), c0);
                c1 = v.fma(stored(w, w1 + at, bf16), c1);
                c2 = v.fma(stored(w, w2 + at, bf16), c2);
                c3 = v.fma(stored(w, w3 + at, bf16), c3);
            }
            c0.intoArray(acc, a); c1.intoArray(acc, a + STEP); c2.intoArray(acc, a + 2 * STEP); c3.intoArray(acc, a + 3 * STEP);
        }
    }

    /** {@code L} elements of W from byte {@code at} as f32: BF16 widened exactly (it is f32's upper half), or F32. */
    private static FloatVector stored(MemorySegment w, long at, boolean bf16) {
        return bf16 ? ShortVector.fromMemorySegment(HALF, w, at, ByteOrder.nativeOrder())
                .convertShape(VectorOperators.S2I, INTS, 0)
                .lanewise(VectorOperators.LSHL, 16)
                .reinterpretAsFloats()
                : FloatVector.fromMemorySegment(S, w, at, ByteOrder.nativeOrder());
    }

    @Override
    public void widenBf16(MemorySegment src, long byteOff, float[] dst, int off, int len) {
        int q = 0;
        for (; q <= len - L; q += L) {
            stored(src, byteOff + 2L * q, true).intoArray(dst, off + q);
        }
        for (; q < len; q++) {
            dst[off + q] = Float.intBitsToFloat(src.get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED,
                    byteOff + 2L * q) << 16);
        }
    }

    @Override
    public String describe() {
        return "Vector API, " + L + " floats";
    }
}
