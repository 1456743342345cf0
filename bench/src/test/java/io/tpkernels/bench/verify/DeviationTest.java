package io.tpkernels.bench.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.FloatRange;
import org.junit.jupiter.api.Test;

class DeviationTest {

    @Test
    void theErrorIsRelativeToTheReferencesLargestMagnitude() {
        float[] want = {100f, -2f, 0.5f};
        float[] got = {100f, -1f, 0.5f};
        assertEquals(0.01, Deviation.relative(want, got), 1e-12);
        assertEquals(0, Deviation.relative(want, want.clone()));
    }

    @Test
    void aNanTheReferenceDoesNotHaveNeverPasses() {
        double e = Deviation.relative(new float[] {1f, 2f}, new float[] {1f, Float.NaN});
        assertTrue(Double.isNaN(e));
        VerifyRow row = VerifyRow.measured("p", "k", "s", "F32", e, 1e9);
        assertEquals(VerifyRow.Status.fail, row.status());
        assertEquals(0, Deviation.relative(new float[] {Float.NaN, 1f}, new float[] {Float.NaN, 1f}),
                "a NaN where the reference has one (argmax of a NaN row) matches");
    }

    @Test
    void misplacedInfinitiesAndOtherShapesAreInfinitelyWrong() {
        float inf = Float.NEGATIVE_INFINITY;
        assertEquals(0, Deviation.relative(new float[] {1f, inf}, new float[] {1f, inf}), "padding columns match");
        assertEquals(Double.POSITIVE_INFINITY, Deviation.relative(new float[] {1f, inf}, new float[] {1f, 0f}));
        assertEquals(Double.POSITIVE_INFINITY, Deviation.relative(new float[] {1f, 2f}, new float[] {1f, inf}));
        assertEquals(Double.POSITIVE_INFINITY, Deviation.relative(new float[] {1f}, new float[] {1f, 2f}));
    }

    @Property
    void oneRoundingOfTheDtypePassesItsTolerance(@ForAll @FloatRange(min = -1e4f, max = 1e4f) float value) {
        for (DType dtype : new DType[] {DType.BF16, DType.F16, DType.F32}) {
            float rounded = switch (dtype) {
                case BF16 -> DType.bf16BitsToFloat(DType.floatToBf16Bits(value));
                case F16 -> DType.f16BitsToFloat(DType.floatToF16Bits(value));
                default -> value;
            };
            double e = Deviation.relative(new float[] {value}, new float[] {rounded});
            assertTrue(e <= Deviation.tolerance(dtype), dtype + ": " + value + " -> " + rounded + " is off by " + e);
        }
    }

    @Test
    void rowsFailOverTheToleranceAndPassAtIt() {
        assertEquals(VerifyRow.Status.pass, VerifyRow.measured("p", "k", "s", "BF16", 0.01, 0.01).status());
        assertEquals(VerifyRow.Status.fail, VerifyRow.measured("p", "k", "s", "BF16", 0.0101, 0.01).status());
        assertTrue(VerifyRow.skipped("p", "s", "BF16", "no sm_90").note().contains("sm_90"));
    }
}
