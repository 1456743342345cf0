package io.tpkernels.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.ops.Cast;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.FloatRange;
import net.jqwik.api.constraints.Size;

/** Properties of the public cast entry point, as a user of the library would state them. */
class CastRoundTripPropertiesTest {

    /** Narrowing then widening then narrowing again changes nothing the second time. */
    @Property(tries = 200)
    void narrowingIsIdempotent(@ForAll @Size(min = 1, max = 64) float[] values) {
        for (DType narrow : new DType[] {DType.BF16, DType.F16}) {
            try (Tensor f32 = Tensor.ofFloats(DType.F32, values, values.length);
                 Tensor once = Cast.to(ExecutionContext.defaultFor(f32.device()), f32, narrow);
                 Tensor wide = Cast.to(ExecutionContext.defaultFor(once.device()), once, DType.F32);
                 Tensor twice = Cast.to(ExecutionContext.defaultFor(wide.device()), wide, narrow)) {
                float[] a = once.toFloatArray();
                float[] b = twice.toFloatArray();
                for (int i = 0; i < a.length; i++) {
                    assertEquals(Float.floatToIntBits(a[i]), Float.floatToIntBits(b[i]), narrow + " element " + i);
                }
            }
        }
    }

    /** Rounding preserves order: x <= y implies bf16(x) <= bf16(y). */
    @Property(tries = 500)
    void roundingIsMonotonic(@ForAll @FloatRange(min = -1e30f, max = 1e30f) float x,
                             @ForAll @FloatRange(min = -1e30f, max = 1e30f) float y) {
        float lo = Math.min(x, y);
        float hi = Math.max(x, y);
        try (Tensor t = Tensor.ofFloats(DType.F32, new float[] {lo, hi}, 2); Tensor b = Cast.to(ExecutionContext.defaultFor(t.device()), t, DType.BF16)) {
            float[] r = b.toFloatArray();
            assertTrue(r[0] <= r[1], lo + " -> " + r[0] + " but " + hi + " -> " + r[1]);
        }
    }
}
