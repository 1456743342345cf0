package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tpkernels.testing.GpuCondition;
import org.junit.jupiter.api.Test;

/** {@code tpk verify}'s bad input: one line, exit 2, nothing checked. */
class VerifyCommandTest {

    private static void assertBadInput(String expected, String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "verify";
        System.arraycopy(args, 0, all, 1, args.length);
        CliRun r = CliRun.tpk(all);
        assertEquals(2, r.exit(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertTrue(r.out().isEmpty(), "nothing checked: " + r.out());
    }

    @Test
    void theCpuHasNothingToCheck() {
        assertBadInput("nothing to check on the CPU", "--backend", "cpu", "--quick");
    }

    @Test
    void withoutAGpuItSaysWhy() {
        assumeTrue(GpuCondition.whyNoGpu() != null, "this machine has a GPU");
        assertBadInput("tpk verify: no GPU can be used", "--quick");
    }
}
