package io.tpkernels.bench.cases;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class MedianTest {

    @Test
    void oddCountsTakeTheMiddleEvenCountsTheMeanOfTheTwoMiddleOnes() {
        assertEquals(7.5, Median.of(7.5));
        assertEquals(3.0, Median.of(5, 1, 3));
        assertEquals(2.5, Median.of(4, 1, 3, 2));
        assertEquals(2.0, Median.of(2, 9, 2));
        assertEquals(0.35, Median.of(0.9, 0.3, 0.1, 0.4, 12.0, 0.2), 1e-15); // sorted: .1 .2 .3 .4 .9 12
        assertEquals(-1.0, Median.of(-3, 1, -1));
    }

    @Test
    void theSamplesAreLeftInTheirOrder() {
        double[] samples = {3, 1, 2};
        Median.of(samples);
        assertArrayEquals(new double[] {3, 1, 2}, samples);
    }

    @Test
    void noSamplesIsAnError() {
        assertThrows(IllegalArgumentException.class, Median::of);
    }

    @Property
    void halfTheSamplesAreAtMostItAndHalfAtLeastIt(
            @ForAll @Size(min = 1, max = 40) List<@DoubleRange(min = -1e6, max = 1e6) Double> samples) {
        double m = Median.of(samples.stream().mapToDouble(Double::doubleValue).toArray());
        long atMost = samples.stream().filter(v -> v <= m).count();
        long atLeast = samples.stream().filter(v -> v >= m).count();
        assertTrue(2 * atMost >= samples.size() && 2 * atLeast >= samples.size(), samples + " -> " + m);
        assertTrue(m >= Collections.min(samples) && m <= Collections.max(samples));
    }

    @Property
    void theOrderOfTheSamplesDoesNotMatter(
            @ForAll @Size(min = 1, max = 40) List<@DoubleRange(min = -1e6, max = 1e6) Double> samples) {
        double[] a = samples.stream().mapToDouble(Double::doubleValue).toArray();
        double[] reversed = a.clone();
        for (int i = 0; i < a.length; i++) {
            reversed[i] = a[a.length - 1 - i];
        }
        double[] sorted = a.clone();
        Arrays.sort(sorted);
        assertEquals(Median.of(a), Median.of(reversed));
        assertEquals(Median.of(a), Median.of(sorted));
    }
}
