package io.tpkernels.layers.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class TokenBatchesTest {

    private static long[] iota(int n) {
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = i;
        }
        return ids;
    }

    @Test
    void eachStepReadsBRowsOfTPlusOneIdsAndTheTargetsAreTheInputsShiftedByOne() {
        TokenBatches b = TokenBatches.of(iota(100), "data", 100, 3, 2);
        assertArrayEquals(new long[] {0, 1, 2, 4, 5, 6}, b.inputs(0));
        assertArrayEquals(new long[] {1, 2, 3, 5, 6, 7}, b.targets(0));
        assertArrayEquals(new long[] {8, 9, 10, 12, 13, 14}, b.inputs(1), "step 1 starts at 1·B·(T + 1) = 8");
    }

    @Test
    void readingWrapsAroundTheEndOfTheData() {
        TokenBatches b = TokenBatches.of(iota(10), "data", 10, 3, 2); // a step reads 8 ids
        assertArrayEquals(new long[] {8, 9, 0, 2, 3, 4}, b.inputs(1));
        assertArrayEquals(new long[] {9, 0, 1, 3, 4, 5}, b.targets(1));
        assertArrayEquals(new long[] {0, 0, 0}, TokenBatches.of(new long[] {0}, "one", 5, 3, 1).inputs(7));
    }

    @Property
    void theInputAndTargetOfEveryPositionAreConsecutiveIdsOfTheData(@ForAll @IntRange(min = 1, max = 50) int n,
                                                                     @ForAll @IntRange(min = 1, max = 9) int t,
                                                                     @ForAll @IntRange(min = 1, max = 4) int batch,
                                                                     @ForAll @IntRange(min = 0, max = 20) int step) {
        TokenBatches b = TokenBatches.of(iota(n), "data", n, t, batch);
        long[] in = b.inputs(step);
        long[] target = b.targets(step);
        assertEquals(batch * t, in.length);
        long row = t + 1L;
        for (int r = 0; r < batch; r++) {
            for (int j = 0; j < t; j++) {
                long position = (long) step * batch * row + r * row + j;
                assertEquals(position % n, in[r * t + j]);
                assertEquals((position + 1) % n, target[r * t + j]);
            }
        }
    }

    @Test
    void badInputNamesWhatIsWrong() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TokenBatches.of(new long[0], "d.txt", 10, 4, 1))
                .getMessage().contains("d.txt: no token ids"));
        String message = assertThrows(IllegalArgumentException.class,
                () -> TokenBatches.of(new long[] {1, 2, 10}, "d.txt", 10, 4, 1)).getMessage();
        assertTrue(message.contains("token id 10 at position 2") && message.contains("[0, 10)"), message);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TokenBatches.of(iota(5), "d", 5, 0, 1))
                .getMessage().contains("--seq-len"));
        assertThrows(IllegalArgumentException.class, () -> TokenBatches.of(iota(5), "d", 5, 2, -1));
    }
}
