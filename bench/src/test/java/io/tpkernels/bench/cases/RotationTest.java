package io.tpkernels.bench.cases;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class RotationTest {

    @Test
    void enoughSetsToTouchTheTargetWithinTheBounds() {
        assertEquals(10, Rotation.count(100, 1000));
        assertEquals(4, Rotation.count(300, 1000), "3.33 rounds up");
        assertEquals(Rotation.MIN_SETS, Rotation.count(1000, 1000), "one set would reuse its inputs every run");
        assertEquals(Rotation.MIN_SETS, Rotation.count(5e9, 256L << 20));
        assertEquals(Rotation.MAX_SETS, Rotation.count(8, 1L << 30));
    }

    @Test
    void runsCycleThroughTheSetsInOrder() {
        List<Integer> made = new ArrayList<>();
        Rotation<String> sets = Rotation.of(3, i -> {
            made.add(i);
            return "set" + i;
        });
        assertEquals(List.of(0, 1, 2), made);
        assertEquals(3, sets.size());
        assertEquals(List.of("set0", "set1", "set2", "set0", "set1"),
                List.of(sets.get(0), sets.get(1), sets.get(2), sets.get(3), sets.get(4)));
    }

    @Property
    void aCycleTouchesTheTargetUnlessItHitsTheCap(@ForAll @LongRange(min = 1, max = 1L << 32) long bytesPerRun,
                                                  @ForAll @LongRange(min = 1, max = 1L << 32) long target) {
        int n = Rotation.count(bytesPerRun, target);
        assertTrue(n >= Rotation.MIN_SETS && n <= Rotation.MAX_SETS, "count " + n);
        assertTrue(n == Rotation.MAX_SETS || (double) n * bytesPerRun >= target, n + " x " + bytesPerRun);
        assertTrue(n == Rotation.MIN_SETS || (double) (n - 1) * bytesPerRun < target, "no more sets than needed: " + n);
    }
}
