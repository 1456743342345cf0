package io.tpkernels.bench.cases;

import java.util.Arrays;

/** The median: the middle value of the sorted samples, or the mean of the two middle ones. */
final class Median {
    private Median() {
    }

    /** The median of {@code samples} (not modified); at least one sample. */
    static double of(double... samples) {
        if (samples.length == 0) {
            throw new IllegalArgumentException("the median of no samples");
        }
        double[] sorted = samples.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
