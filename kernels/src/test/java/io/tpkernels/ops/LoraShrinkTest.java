package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tpkernels.runtime.Tuning;
import org.junit.jupiter.api.Test;

/** How far each LoRA shrink mode lets the shrink run on chip. */
class LoraShrinkTest {

    @Test
    void eachModeBoundsTheRankOnChip() {
        assertEquals(16, LoraShrink.maxOnChipRank(Tuning.LoraShrink.AUTO, 64));
        assertEquals(8, LoraShrink.maxOnChipRank(Tuning.LoraShrink.AUTO, 8));
        assertEquals(64, LoraShrink.maxOnChipRank(Tuning.LoraShrink.ON_CHIP, 64));
        assertEquals(0, LoraShrink.maxOnChipRank(Tuning.LoraShrink.SEPARATE, 64));
    }
}
