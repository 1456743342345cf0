package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The LoRA shrink switch: the property's values, and the per-thread override nesting and undoing itself. */
class LoraShrinkTest {

    @Test
    void thePropertyNamesTheMode() {
        assertEquals(LoraShrink.Mode.AUTO, LoraShrink.fromProperty(null));
        assertEquals(LoraShrink.Mode.AUTO, LoraShrink.fromProperty("auto"));
        assertEquals(LoraShrink.Mode.ON_CHIP, LoraShrink.fromProperty("on-chip"));
        assertEquals(LoraShrink.Mode.SEPARATE, LoraShrink.fromProperty("Separate"));
        var e = assertThrows(IllegalArgumentException.class, () -> LoraShrink.fromProperty("fused"));
        assertTrue(e.getMessage().contains("tpk.lora.shrink=fused"), e.getMessage());
    }

    @Test
    void eachModeBoundsTheRankOnChip() {
        assertEquals(16, LoraShrink.modeDuring(LoraShrink.Mode.AUTO, () -> LoraShrink.maxOnChipRank(64)));
        assertEquals(64, LoraShrink.modeDuring(LoraShrink.Mode.ON_CHIP, () -> LoraShrink.maxOnChipRank(64)));
        assertEquals(0, LoraShrink.modeDuring(LoraShrink.Mode.SEPARATE, () -> LoraShrink.maxOnChipRank(64)));
    }

    @Test
    void overridesNestAndUndoThemselves() {
        LoraShrink.Mode outside = LoraShrink.mode();
        AtomicReference<LoraShrink.Mode> inner = new AtomicReference<>();
        LoraShrink.Mode during = LoraShrink.modeDuring(LoraShrink.Mode.SEPARATE, () -> {
            LoraShrink.modeDuring(LoraShrink.Mode.ON_CHIP, () -> inner.set(LoraShrink.mode()));
            return LoraShrink.mode();
        });
        assertEquals(LoraShrink.Mode.SEPARATE, during);
        assertEquals(LoraShrink.Mode.ON_CHIP, inner.get());
        assertEquals(outside, LoraShrink.mode());
    }
}
