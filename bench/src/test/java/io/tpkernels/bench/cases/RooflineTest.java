package io.tpkernels.bench.cases;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The rates, percents and ratios on numbers worked out by hand. */
class RooflineTest {

    private static Result row(Result.Role role, double ms, double bytes, double flops, Result.Baseline... baselines) {
        return new Result("k", role, Backend.cuda, "BF16", Shape.of("T", 1), ms, bytes, flops, List.of(baselines));
    }

    // copy: 2e9 bytes (read + written) in 1 ms = 2000 GB/s; gemm: 1e10 FLOP in 1 ms = 1e13 FLOP/s.
    private final Result copy = row(Result.Role.ceiling, 1, 2e9, 0);
    private final Result gemm = row(Result.Role.ceiling, 1, 6e8, 1e10);
    private final Roofline roofline = new Roofline(copy, gemm);

    @Test
    void ratesComeFromBytesFlopsAndTheMedian() {
        Result r = row(Result.Role.kernel, 4, 8e9, 2e10);
        assertEquals(2000, r.gbPerS(), 1e-9);
        assertEquals(5000, r.gflopPerS(), 1e-9);
        assertEquals(2.5, r.intensity(), 1e-12);
        assertEquals(2000, roofline.bandwidthGbPerS(), 1e-9);
        assertEquals(5, roofline.ridge(), 1e-12, "1e13 FLOP/s over 2e12 B/s");
    }

    @Test
    void belowTheRidgeTheCopyBoundsAboveItTheGemm() {
        // 1 FLOP/byte at 1e12 FLOP/s: the roof there is 1 x 2e12 = 2e12, so 50% of the copy.
        Result decode = row(Result.Role.kernel, 1, 1e9, 1e9);
        assertEquals(Roofline.Bound.copy, roofline.bound(decode));
        assertEquals(50, roofline.percentOfCeiling(decode), 1e-9);
        // 100 FLOP/byte at 1e11 / 20 ms = 5e12 FLOP/s: the roof is the GEMM's 1e13, so 50% of the GEMM.
        Result prefill = row(Result.Role.kernel, 20, 1e9, 1e11);
        assertEquals(Roofline.Bound.gemm, roofline.bound(prefill));
        assertEquals(50, roofline.percentOfCeiling(prefill), 1e-9);
        // Without a GEMM roof only the bandwidth bounds: 100 x 2e12 = 2e14, of which 5e12 is 2.5%.
        Roofline bandwidthOnly = new Roofline(copy, null);
        assertEquals(2.5, bandwidthOnly.percentOfCeiling(prefill), 1e-9);
        assertEquals(Roofline.Bound.copy, bandwidthOnly.bound(prefill));
    }

    @Test
    void aRatioAboveOneIsFasterThanTheBaseline() {
        Result.Baseline cublas = new Result.Baseline("cublas", 3);
        Result r = row(Result.Role.kernel, 2, 1, 1, cublas);
        assertEquals(1.5, r.speedupOver(cublas), 1e-12);
    }
}
