package io.tpkernels.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * The linear layers' backward under tensor parallelism (docs/contract.md P1) equals the unsharded one: at tp 1 to
 * 4, in every layout of {@link LoraLayout}, the full {@code dx}, {@code dA} and {@code dB} put together from the
 * ranks equal tp 1's within {@code 1e-5·(|v| + rms(v))} (the ranks' F32 partials are summed in another order than
 * one rank's chain), and what the layer replicates is bitwise the same on every rank: {@code dx} where every rank
 * holds all of it, the column-parallel {@code dA} and the row-parallel {@code dB}.
 */
class LinearBackwardShardingPropertiesTest {
    private static final double RELATIVE = 1e-5;

    @Provide
    Arbitrary<LoraLayout> layouts() {
        return Arbitraries.of(LoraLayout.all());
    }

    @Property(tries = 40)
    void loraGradientsOnTpRanksEqualOneRanks(@ForAll @IntRange(min = 1, max = 4) int tp,
                                              @ForAll @IntRange(min = 1, max = 4) int nPerRank,
                                              @ForAll @IntRange(min = 1, max = 4) int kPerRank,
                                              @ForAll @IntRange(min = 1, max = 8) int r,
                                              @ForAll @IntRange(min = 1, max = 3) int tokensPerRank,
                                              @ForAll("layouts") LoraLayout layout) {
        BackwardRun.Problem p = new BackwardRun.Problem(nPerRank * 12, kPerRank * 12, r, tokensPerRank * 12,
                nPerRank * 1009L + kPerRank * 101L + r * 11L + tokensPerRank);
        BackwardRun one = BackwardRun.run(p, layout, true, 1);
        BackwardRun many = BackwardRun.run(p, layout, true, tp);
        String what = layout + ", tp " + tp;
        assertReplicasIdentical(many, layout, what);
        assertClose(one.fullDx(layout, p), many.fullDx(layout, p), "dx, " + what);
        assertClose(one.fullGradA(layout, p), many.fullGradA(layout, p), "dA, " + what);
        assertClose(one.fullGradB(layout), many.fullGradB(layout), "dB, " + what);
    }

    @Property(tries = 30)
    void plainInputGradientOnTpRanksEqualsOneRanks(@ForAll @IntRange(min = 1, max = 4) int tp,
                                                   @ForAll @IntRange(min = 1, max = 4) int nPerRank,
                                                   @ForAll @IntRange(min = 1, max = 4) int kPerRank,
                                                   @ForAll @IntRange(min = 1, max = 3) int tokensPerRank,
                                                   @ForAll("layouts") LoraLayout layout) {
        BackwardRun.Problem p = new BackwardRun.Problem(nPerRank * 12, kPerRank * 12, 1, tokensPerRank * 12,
                nPerRank * 607L + kPerRank * 61L + tokensPerRank);
        BackwardRun one = BackwardRun.run(p, layout, false, 1);
        BackwardRun many = BackwardRun.run(p, layout, false, tp);
        String what = "plain " + layout + ", tp " + tp;
        if (BackwardRun.replicatedDx(layout)) {
            assertSame(many.dx(), "dx, " + what);
        }
        assertClose(one.fullDx(layout, p), many.fullDx(layout, p), "dx, " + what);
    }

    /** What every rank holds whole is the same bits on every rank. */
    static void assertReplicasIdentical(BackwardRun run, LoraLayout layout, String what) {
        if (BackwardRun.replicatedDx(layout)) {
            assertSame(run.dx(), "dx, " + what);
        }
        assertSame(layout.rowParallel() ? run.gradB() : run.gradA(),
                (layout.rowParallel() ? "dB" : "dA") + " (replicated), " + what);
    }

    private static void assertSame(List<float[]> perRank, String what) {
        Tolerance.assertNoNaN(perRank.get(0), what);
        for (int rank = 1; rank < perRank.size(); rank++) {
            assertArrayEquals(perRank.get(0), perRank.get(rank), what + ": rank " + rank + " differs from rank 0");
        }
    }

    /** {@code actual} within {@code 1e-5·(|e| + rms(expected))} of {@code expected}, element by element. */
    static void assertClose(float[] expected, float[] actual, String what) {
        assertTrue(expected.length == actual.length, what + ": " + actual.length + " values, expected "
                + expected.length);
        double rms = 0;
        for (float e : expected) {
            rms += (double) e * e;
        }
        rms = Math.sqrt(rms / Math.max(1, expected.length));
        assertTrue(rms > 0, what + ": the expected values are all zero, which would prove nothing");
        for (int i = 0; i < expected.length; i++) {
            double bound = RELATIVE * (Math.abs(expected[i]) + rms);
            assertTrue(Math.abs(expected[i] - actual[i]) <= bound, what + ": element " + i + " is " + actual[i]
                    + ", expected " + expected[i] + " within " + bound);
        }
    }
}
