package io.tpkernels.bench;

import io.tpkernels.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;

/** The embedding issue's benchmark shapes: {@code T ∈ {1, 128, 8192, 32768}}, {@code H ∈ {4096, 8192}}, BF16. */
public final class EmbeddingShapes {
    /** LLaMA-3's vocabulary. */
    public static final long VOCAB = 128256;
    /** Split over 8 tensor-parallel ranks. */
    public static final int TP = 8;

    /** One shape. */
    public record Shape(int tokens, int hidden) {
    }

    /** Every shape, small to large. */
    public static final List<Shape> SHAPES = List.of(
            new Shape(1, 4096), new Shape(128, 4096), new Shape(8192, 4096), new Shape(32768, 4096),
            new Shape(1, 8192), new Shape(128, 8192), new Shape(8192, 8192), new Shape(32768, 8192));

    private EmbeddingShapes() {
    }

    /** Fills a BF16 segment with random non-zero normal values (never zeros as data). */
    static void fillRandomBf16(MemorySegment s, SplittableRandom r) {
        long n = s.byteSize() / 2;
        for (long i = 0; i < n; i++) {
            float v;
            do {
                v = (float) r.nextGaussian();
            } while (v == 0f);
            s.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, DType.floatToBf16Bits(v));
        }
    }
}
