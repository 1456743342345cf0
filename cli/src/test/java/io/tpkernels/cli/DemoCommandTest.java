package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code tpk demo}, the README's main job: it runs without a GPU and every layout agrees. */
class DemoCommandTest {

    @Test
    void everyLayoutAgreesWithTheUnshardedRun() {
        CliRun run = CliRun.tpk("demo", "--backend", "cpu");
        assertEquals(0, run.exit(), run.out() + run.err());
        assertTrue(run.out().contains("tp 4 x pp 2"), run.out());
        assertTrue(run.out().contains("every layout agrees"), run.out());
        assertTrue(run.out().lines().filter(l -> l.contains(" ok ") || l.endsWith("same tokens")).count() >= 2, run.out());
    }
}
