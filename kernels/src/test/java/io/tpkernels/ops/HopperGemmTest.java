package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The Hopper GEMM switch: the property's values, and the per-thread override nesting and undoing itself. */
class HopperGemmTest {

    @Test
    void thePropertyNamesTheVariantAndV1IsTheDefault() {
        assertEquals(HopperGemm.Variant.V1, HopperGemm.fromProperty(null));
        assertEquals(HopperGemm.Variant.V1, HopperGemm.fromProperty("v1"));
        assertEquals(HopperGemm.Variant.V1, HopperGemm.fromProperty("true"));
        assertEquals(HopperGemm.Variant.PINGPONG, HopperGemm.fromProperty("PingPong"));
        assertThrows(IllegalArgumentException.class, () -> HopperGemm.fromProperty("v3"));
    }

    @Test
    void theOverrideHoldsOnlyDuringTheCallAndNests() {
        HopperGemm.Variant outside = HopperGemm.variant();
        AtomicReference<HopperGemm.Variant> inner = new AtomicReference<>();
        HopperGemm.Variant during = HopperGemm.variantDuring(HopperGemm.Variant.PINGPONG, () -> {
            HopperGemm.variantDuring(HopperGemm.Variant.V1, () -> inner.set(HopperGemm.variant()));
            return HopperGemm.variant();
        });
        assertEquals(HopperGemm.Variant.PINGPONG, during);
        assertEquals(HopperGemm.Variant.V1, inner.get());
        assertEquals(outside, HopperGemm.variant());
    }
}
