package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fused LM head and cross-entropy on the CPU against the unfused form (logits, then the vocab-parallel loss, then
 * the head's backward): the loss within F32 rounding, {@code dX} and {@code dW} within 1e-5 of their scale, on random
 * data with ignored targets, a shard without valid rows, the target of the padding-free last shard, and T not a
 * multiple of the chunk; and no {@code [T, S]} buffer.
 */
class LmHeadCrossEntropyTest {

    static Stream<Arguments> problems() {
        return Stream.of(
                // T = 37: chunks of 8 rows, the last one of 5
                Arguments.of(new FusedLossRun.Problem(37, 24, 50, 8, DType.F32, FusedLossRun.targets(37, 50, 5, 1)), 2),
                // V = 5 at tp 3, multiple 4: shards of 4, 1 and 0 valid rows
                Arguments.of(new FusedLossRun.Problem(9, 16, 5, 4, DType.F32, FusedLossRun.targets(9, 5, 4, 2)), 3),
                Arguments.of(new FusedLossRun.Problem(20, 32, 96, 16, DType.BF16, FusedLossRun.targets(20, 96, 7, 3)), 2),
                Arguments.of(new FusedLossRun.Problem(600, 16, 40, 8, DType.F32, FusedLossRun.targets(600, 40, 9, 4)), 1));
    }

    @ParameterizedTest
    @MethodSource("problems")
    void theFusedFormGivesTheUnfusedLossAndGradients(FusedLossRun.Problem p, int tp) {
        FusedLossRun unfused = FusedLossRun.run(p, tp, Device.CPU, false);
        FusedLossRun fused = FusedLossRun.run(p, tp, Device.CPU, true);
        assertSame(unfused, fused, 1e-5, "T=" + p.t() + " V=" + p.vocab() + " tp " + tp + " " + p.dtype());
    }

    /** Loss within {@code 1e-6} relative, gradients within {@code tolerance} of each tensor's scale; NaN never passes. */
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
        double rms = 0;
        for (float v : want) {
            rms += (double) v * v;
        }
        rms = want.length == 0 ? 0 : Math.sqrt(rms / want.length);
        for (int i = 0; i < want.length; i++) {
            assertTrue(!Float.isNaN(got[i]) && Math.abs(got[i] - want[i]) <= tolerance * (Math.abs(want[i]) + rms),
                    what + "[" + i + "]: " + got[i] + ", unfused " + want[i]);
        }
    }

    @Test
    void theFusedFormNeverHoldsTheLogits() {
        // T = 1024 tokens, S = 512 columns: the logits would be 2 MiB; the fused form holds chunks of 16 rows.
        FusedLossRun.Problem p = new FusedLossRun.Problem(1024, 8, 500, 512, DType.F32,
                FusedLossRun.targets(1024, 500, 11, 5));
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
    void chunksAreAFewRowsAndNeverEmpty() {
        assertEquals(List.of(1L, 5L, 8L, 8L, 16L, 512L),
                Stream.of(1L, 5L, 8L, 100L, 1024L, 32768L).map(LmHeadCrossEntropy::chunkRows).toList());
    }
}
