package io.tpkernels.layers.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.model.TrainingRun.Faults;
import io.tpkernels.layers.model.TrainingRun.Layout;
import io.tpkernels.layers.model.TrainingRun.Outcome;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fine-tuning gives the loss it gives without parallelism (docs/contract.md sections 11 to 13): at tp 2, tp 4 and
 * tp 2 × pp 2 (with micro-batches), every step's loss within 1e-5 relative of tp 1's in F32, and every replicated
 * LoRA factor the same bits on every rank after every step.
 */
class FinetuneLayoutsTest {
    static final int STEPS = 6;
    static final double CLIP = 0.5;

    static Stream<Layout> layouts() {
        return Stream.of(Layout.cpu(2, 1, 1), Layout.cpu(4, 1, 1), Layout.cpu(2, 2, 2), Layout.cpu(1, 2, 4),
                Layout.cpu(4, 2, 2));
    }

    @ParameterizedTest
    @MethodSource("layouts")
    void everyLayoutTrainsAsTp1Does(Layout layout) {
        Outcome reference = TrainingRun.run(TrainingRun.adapter(), STEPS, Layout.cpu(1, 1, 1), CLIP, Faults.NONE);
        Outcome got = TrainingRun.run(TrainingRun.adapter(), STEPS, layout, CLIP, Faults.NONE);
        assertLossesMatch(reference, got, 1e-5, layout.toString());
        assertReplicatedAgree(got, layout.toString());
    }

    @ParameterizedTest
    @MethodSource("unfusedLayouts")
    void theUnfusedLmHeadLossTrainsAsTheFusedOne(Layout layout) {
        Outcome fused = TrainingRun.run(TrainingRun.adapter(), STEPS, layout, CLIP, Faults.NONE);
        Outcome unfused;
        String before = System.setProperty("tpk.lmhead.loss", "unfused"); // read when each stage builds its context
        try {
            unfused = TrainingRun.run(TrainingRun.adapter(), STEPS, layout, CLIP, Faults.NONE);
        } finally {
            if (before == null) {
                System.clearProperty("tpk.lmhead.loss");
            } else {
                System.setProperty("tpk.lmhead.loss", before);
            }
        }
        assertLossesMatch(unfused, fused, 1e-6, layout + ", fused against unfused");
    }

    static Stream<Layout> unfusedLayouts() {
        return Stream.of(Layout.cpu(1, 1, 1), Layout.cpu(2, 2, 2));
    }

    /** Step by step, the losses within {@code relative}; the run must learn (the loss falls), and no NaN passes. */
    static void assertLossesMatch(Outcome reference, Outcome got, double relative, String what) {
        assertEquals(reference.losses().length, got.losses().length);
        for (int k = 0; k < reference.losses().length; k++) {
            double want = reference.losses()[k];
            double have = got.losses()[k];
            assertTrue(Double.isFinite(want) && Double.isFinite(have), what + ": step " + (k + 1) + " loss " + have
                    + " (tp 1: " + want + ")");
            assertTrue(Math.abs(have - want) <= relative * Math.abs(want), what + ": step " + (k + 1) + " loss " + have
                    + " but tp 1 gives " + want + " (relative difference " + Math.abs(have - want) / Math.abs(want)
                    + ")");
        }
        int last = reference.losses().length - 1;
        assertTrue(reference.losses()[last] < reference.losses()[0], "the reference learns: " + reference.losses()[0]
                + " -> " + reference.losses()[last]);
    }

    /** Every replicated parameter holds the same bits on every rank of its stage, after every step. */
    static void assertReplicatedAgree(Outcome got, String what) {
        boolean any = false;
        for (int k = 0; k < got.replicated().size(); k++) {
            for (Map.Entry<String, List<int[]>> e : got.replicated().get(k).entrySet()) {
                List<int[]> ranks = e.getValue();
                for (int r = 1; r < ranks.size(); r++) {
                    any = true;
                    assertArrayEquals(ranks.get(0), ranks.get(r), what + ": " + e.getKey() + " after step " + (k + 1)
                            + " differs between two ranks of its stage");
                }
            }
        }
        assertTrue(any || what.startsWith("tp 1 "), what + ": no replicated parameter was compared");
    }
}
