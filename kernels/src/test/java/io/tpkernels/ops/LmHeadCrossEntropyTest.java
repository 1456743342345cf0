package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fused LM head and cross-entropy on the CPU against the unfused form (logits, then the vocab-parallel loss, then
 * the head's backward): the loss within F32 rounding, {@code dX} and {@code dW} within 1e-5 of their scale, on random
 * data with ignored targets, a shard without valid rows, the target of the padding-free last shard, and a shard's
 * valid columns not a multiple of the chunk; and no {@code [T, S]} buffer.
 */
class LmHeadCrossEntropyTest {

    static Stream<Arguments> problems() {
        return Stream.of(
                // V = 300 at tp 2: 150 valid columns a shard, in chunks of 64, the last one of 22
                Arguments.of(new FusedLossRun.Problem(37, 24, 300, 8, DType.F32, FusedLossRun.targets(37, 300, 5, 1)), 2),
                // V = 5 at tp 3, multiple 4: shards of 4, 1 and 0 valid rows
                Arguments.of(new FusedLossRun.Problem(9, 16, 5, 4, DType.F32, FusedLossRun.targets(9, 5, 4, 2)), 3),
                Arguments.of(new FusedLossRun.Problem(20, 32, 96, 16, DType.BF16, FusedLossRun.targets(20, 96, 7, 3)), 2),
                // one rank, 5000 columns in 64 chunks of 79 (the last one of 23)
                Arguments.of(new FusedLossRun.Problem(60, 16, 5000, 8, DType.F32, FusedLossRun.targets(60, 5000, 9, 4)),
                        1));
    }

    @ParameterizedTest
    @MethodSource("problems")
    void theFusedFormGivesTheUnfusedLossAndGradients(FusedLossRun.Problem p, int tp) {
        FusedLossRun unfused = FusedLossRun.run(p, tp, Device.CPU, false);
        FusedLossRun fused = FusedLossRun.run(p, tp, Device.CPU, true);
        assertSame(unfused, fused, 1e-5, "T=" + p.t() + " V=" + p.vocab() + " tp " + tp + " " + p.dtype());
    }

    /**
     * Loss within {@code 1e-6} relative; each gradient element within {@code tolerance} of the tensor's largest
     * magnitude (its elements are sums of terms of both signs, whose cancellation leaves some far below the terms'
     * own size: the scale of the rounding is the tensor's, not the element's); NaN never passes.
     */
    static void assertSame(FusedLossRun want, FusedLossRun got, double tolerance, String what) {
        assertEquals(want.count(), got.count(), what + ": count");
        assertTrue(Double.isFinite(got.loss()) && Math.abs(got.loss() - want.loss()) <= 1e-6 * Math.abs(want.loss()),
                what + ": loss " + got.loss() + ", unfused " + want.loss());
        for (int r = 0; r < want.dx().size(); r++) {
            close(want.dx().get(r), got.dx().get(r), tolerance, what + ": rank " + r + " dX");
            close(want.dw().get(r), got.dw().get(r), tolerance, what + ": rank " + r + " dW");
        }
    }

    static void close(float[] want, float[] got, double tolerance, String what) {
        assertEquals(want.length, got.length, what);
        double scale = 0;
        for (float v : want) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < want.length; i++) {
            assertTrue(!Float.isNaN(got[i]) && Math.abs(got[i] - want[i]) <= tolerance * scale,
                    what + "[" + i + "]: " + got[i] + ", unfused " + want[i] + " (largest " + scale + ")");
        }
    }

    @Test
    void theFusedFormNeverHoldsTheLogits() {
        // T = 1024 tokens, S = 8192 columns (8000 real): the logits would be 32 MiB; the fused form holds two chunks
        // of 125 columns.
        FusedLossRun.Problem p = new FusedLossRun.Problem(1024, 8, 8000, 512, DType.F32,
                FusedLossRun.targets(1024, 8000, 11, 5));
        FusedLossRun fused = FusedLossRun.run(p, 1, Device.CPU, true);
        FusedLossRun unfused = FusedLossRun.run(p, 1, Device.CPU, false);
        long logits = fused.shardBytes().get(0);
        assertTrue(unfused.peakBytes().get(0) >= logits, "the meter sees the unfused logits: "
                + unfused.peakBytes().get(0) + " of " + logits);
        assertTrue(fused.peakBytes().get(0) * 16 <= logits, "fused peak " + fused.peakBytes().get(0)
                + " bytes, more than 1/16 of the logits' " + logits);
        assertSame(unfused, fused, 1e-5, "T=1024");
    }

    @Test
    void chunksAreAboutOneSixtyFourthOfTheColumnsAndNeverEmpty() {
        // 15808: LLaMA-3's last shard at tp 8; 128256: its whole vocabulary on one rank, capped
        assertEquals(List.of(1L, 5L, 64L, 64L, 79L, 247L, 256L),
                Stream.of(1L, 5L, 64L, 100L, 5000L, 15808L, 128256L).map(LmHeadCrossEntropy::chunkColumns).toList());
    }

    /** The tile kernels' blocks fit an A100 (163 KB per block) and Hopper (227 KB), not sm_86/sm_89 (99 KB). */
    @Test
    void theTileKernelsRunWhereTheirSharedMemoryFits() {
        assertTrue(LmHeadCrossEntropyCuda.sharedMemoryFits(166912), "sm_80");
        assertTrue(LmHeadCrossEntropyCuda.sharedMemoryFits(232448), "sm_90");
        assertFalse(LmHeadCrossEntropyCuda.sharedMemoryFits(101376), "sm_86, sm_89");
        // dz's tile, two stages of the W and X slices, and the static statistics
        assertFalse(LmHeadCrossEntropyCuda.sharedMemoryFits(128 * 136 * 2 + 2 * 256 * 72 * 2 + 3728 - 1));
    }

    /**
     * A chunk is never empty nor wider than the shard, at least 64 columns where the shard has them, and at most 256:
     * the scratch is {@code O(T)} whatever the vocabulary, and a shard of up to 64·256 columns takes at most 64 chunks.
     */
    @Property
    void chunksAreBoundedWhateverTheShard(@ForAll @LongRange(min = 1, max = 5_000_000) long valid) {
        long c = LmHeadCrossEntropy.chunkColumns(valid);
        assertTrue(c >= 1 && c <= valid && c <= LmHeadCrossEntropy.MAX_CHUNK_COLUMNS, valid + ": " + c);
        assertTrue(c >= Math.min(valid, LmHeadCrossEntropy.MIN_CHUNK_COLUMNS), valid + ": " + c);
        long chunks = (valid + c - 1) / c;
        if (valid <= (long) LmHeadCrossEntropy.CHUNKS * LmHeadCrossEntropy.MAX_CHUNK_COLUMNS) {
            assertTrue(chunks <= LmHeadCrossEntropy.CHUNKS, valid + ": " + chunks + " chunks of " + c);
        } else {
            assertEquals(LmHeadCrossEntropy.MAX_CHUNK_COLUMNS, c, valid + " columns");
        }
    }
}
