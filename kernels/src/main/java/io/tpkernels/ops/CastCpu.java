package io.tpkernels.ops;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.stream.LongStream;

/**
 * The CPU reference of {@link Cast}: exact per element, split over cores in blocks for large tensors.
 *
 * <p>A block goes through in chunks staged in per-thread heap arrays: bulk-copy the chunk in, widen it to
 * floats, narrow those to the target, bulk-copy them out, choosing the loops once per chunk. The conversions
 * are DType's, so results are bit-identical to the per-element {@code to.setFloat(out, i, from.getFloat(in,
 * i))} this replaced.
 *
 * <p>Why not loop over the segments directly: each MemorySegment access is a chain of about ten inlined
 * calls, and C2 often compiles the loop inlined into the stream and ForkJoin frames that run the blocks,
 * where the chain passes MaxInlineLevel (15). The accesses then stay calls (PrintInlining: "inlining too
 * deep") and the cast runs 10 to 15 times slower, in about half of JVMs; all were fast with
 * -XX:MaxInlineLevel=40. Loops over arrays need two levels at most, and the Vector API's chains are
 * {@code @ForceInline}, which that limit does not apply to.
 */
final class CastCpu {
    private static final long BLOCK = 1 << 16;
    /** Elements per staged chunk: its float[] and short[] (12 KiB) stay in L1; 1024 to 8192 measured. */
    private static final int CHUNK = 2048;
    /** Each thread's staging arrays: allocating them per block cost half a microsecond. */
    // Unaligned, as in DType: checkpoint data mapped from a file need not be aligned.
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    /** Whether {@link CastVector} can load; it is never touched otherwise. */
    static final boolean VECTOR_API = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    private CastCpu() {
    }

    static void run(Tensor src, Tensor dst) {
        MemorySegment in = src.hostSegment();
        MemorySegment out = dst.hostSegment();
        DType from = src.dtype();
        DType to = dst.dtype();
        long n = src.numel();
        if (from == to) {
            MemorySegment.copy(in, 0, out, 0, src.byteSize());
            return;
        }
        long blocks = (n + BLOCK - 1) / BLOCK;
        LongStream range = LongStream.range(0, blocks);
        (blocks > 1 ? range.parallel() : range).forEach(b ->
                convert(from, to, in, out, b * BLOCK, Math.min(n, (b + 1) * BLOCK), VECTOR_API));
    }

    /** Converts elements {@code [start, end)} of {@code in} ({@code from}) into {@code out} ({@code to}). */
    static void convert(DType from, DType to, MemorySegment in, MemorySegment out, long start, long end,
                        boolean vectorApi) {
        float[] floats = new float[CHUNK]; // per block of BLOCK elements: small beside the block's work
        short[] halves = new short[CHUNK];
        for (long i = start; i < end; i += CHUNK) {
            int n = (int) Math.min(CHUNK, end - i);
            switch (from) {
                case F32 -> MemorySegment.copy(in, FLOAT, i * 4, floats, 0, n);
                case F16 -> {
                    MemorySegment.copy(in, SHORT, i * 2, halves, 0, n);
                    f16ToFloats(halves, floats, 0, n);
                }
                case BF16 -> {
                    MemorySegment.copy(in, SHORT, i * 2, halves, 0, n);
                    if (vectorApi) {
                        CastVector.bf16ToFloats(halves, floats, n);
                    } else {
                        bf16ToFloats(halves, floats, 0, n);
                    }
                }
                default -> throw unsupported(from, to);
            }
            switch (to) {
                case F32 -> MemorySegment.copy(floats, 0, out, FLOAT, i * 4, n);
                case F16 -> {
                    floatsToF16(floats, halves, 0, n);
                    MemorySegment.copy(halves, 0, out, SHORT, i * 2, n);
                }
                case BF16 -> {
                    if (vectorApi) {
                        CastVector.floatsToBf16(floats, halves, n);
                    } else {
                        floatsToBf16(floats, halves, 0, n);
                    }
                    MemorySegment.copy(halves, 0, out, SHORT, i * 2, n);
                }
                default -> throw unsupported(from, to);
            }
        }
    }

    private static IllegalArgumentException unsupported(DType from, DType to) {
        return new IllegalArgumentException("cast: no CPU conversion from " + from + " to " + to);
    }

    // Widening is exact and F32 holds every f16 and bf16 value, so F16 <-> BF16 through floats rounds once,
    // as the per-element conversion does. C2 vectorises the f16 loops itself (Float.float16ToFloat and
    // floatToFloat16 are intrinsics) but not the bf16 ones, hence CastVector.

    private static void f16ToFloats(short[] in, float[] out, int start, int end) {
        for (int j = start; j < end; j++) {
            out[j] = DType.f16BitsToFloat(in[j]);
        }
    }

    static void bf16ToFloats(short[] in, float[] out, int start, int end) {
        for (int j = start; j < end; j++) {
            out[j] = DType.bf16BitsToFloat(in[j]);
        }
    }

    private static void floatsToF16(float[] in, short[] out, int start, int end) {
        for (int j = start; j < end; j++) {
            out[j] = DType.floatToF16Bits(in[j]);
        }
    }

    static void floatsToBf16(float[] in, short[] out, int start, int end) {
        for (int j = start; j < end; j++) {
            out[j] = DType.floatToBf16Bits(in[j]);
        }
    }
}
