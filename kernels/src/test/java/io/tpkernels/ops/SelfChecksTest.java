package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import org.junit.jupiter.api.Test;

/** The self-check's verdict: within the dtype's tolerance of the result's scale, and never a NaN. */
class SelfChecksTest {

    @Test
    void aResultWithinTheToleranceOfItsScalePasses() {
        double[] want = {100, -3, 0.25};
        assertNull(SelfChecks.judge(want, new float[] {100.5f, -3f, 0.25f}, DType.BF16));
        assertNull(SelfChecks.judge(want, new float[] {100f, -3.005f, 0.25f}, DType.F32));
    }

    @Test
    void aWrongElementFailsAndIsNamed() {
        String why = SelfChecks.judge(new double[] {100, -3, 0.25}, new float[] {100f, 7f, 0.25f}, DType.BF16);
        assertNotNull(why);
        assertTrue(why.startsWith("element 1 is 7.0"), why);
        assertNotNull(SelfChecks.judge(new double[] {100, -3}, new float[] {100f, -3.02f}, DType.F32));
    }

    @Test
    void aNanNeverPasses() {
        String why = SelfChecks.judge(new double[] {1, 2, 3}, new float[] {1f, Float.NaN, 3f}, DType.BF16);
        assertNotNull(why);
        assertTrue(why.contains("NaN"), why);
    }
}
