package io.tpkernels.tests;

import static io.tpkernels.tests.VocabPaddingPropertiesTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.shard.MemoryBalancedPartition;
import io.tpkernels.shard.PipelinePartition.Remainder;
import io.tpkernels.shard.PipelinePartition;
import io.tpkernels.testkit.PartitionSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

/** docs/contract.md section 11 over the testkit's partitions, and the memory-balanced split against brute force. */
class PipelinePartitionPropertiesTest {

    @Property(tries = 300)
    void balancedSplitsFollowTheFormula(@ForAll PartitionSpec spec) {
        PipelinePartition p = spec.balanced();
        int base = spec.layers() / spec.stages();
        int extra = spec.layers() % spec.stages();
        assertEquals(spec.stages(), p.stages());
        for (int i = 0; i < p.stages(); i++) {
            boolean more = spec.remainder() == Remainder.FIRST ? i < extra : i >= spec.stages() - extra;
            assertEquals(base + (more ? 1 : 0), p.layers(i), "stage " + i + " of " + spec);
        }
    }

    @Property(tries = 300)
    void stagesTileTheLayersInOrder(@ForAll PipelinePartition p) {
        int sum = 0;
        for (int i = 0; i < p.stages(); i++) {
            assertEquals(sum, p.start(i));
            assertTrue(p.layers(i) >= 1);
            sum += p.layers(i);
            assertEquals(sum, p.end(i));
        }
        assertEquals(sum, p.totalLayers());
        for (int layer = 0; layer < p.totalLayers(); layer++) {
            int s = p.stageOf(layer);
            assertTrue(p.start(s) <= layer && layer < p.end(s), "layer " + layer + " in stage " + s);
        }
    }

    @Property(tries = 200)
    void specsRoundTripThroughParse(@ForAll PipelinePartition p) {
        assertEquals(p, PipelinePartition.parse(p.toString(), p.totalLayers(), p.stages()));
    }

    @Property(tries = 200)
    void balancedSplitsDifferByAtMostOneLayer(@ForAll PartitionSpec spec) {
        int[] counts = spec.balanced().layerCounts();
        assertTrue(Arrays.stream(counts).max().orElseThrow() - Arrays.stream(counts).min().orElseThrow() <= 1);
    }

    @Example
    void sixtyOneLayersOnEightStages() {
        assertArrayEquals(new int[] {8, 8, 8, 8, 8, 7, 7, 7},
                PipelinePartition.balanced(61, 8, Remainder.FIRST).layerCounts());
        assertArrayEquals(new int[] {7, 7, 7, 8, 8, 8, 8, 8},
                PipelinePartition.balanced(61, 8, Remainder.LAST).layerCounts());
        assertEquals(7, PipelinePartition.balanced(61, 8, Remainder.LAST).stageOf(60));
    }

    @Example
    void badSplitsAreRejectedNamingTheProblem() {
        assertMessage(() -> PipelinePartition.balanced(3, 4, Remainder.FIRST), "3 layers cannot fill 4 pipeline stages");
        assertMessage(() -> PipelinePartition.balanced(3, 0, Remainder.FIRST), "stages must be >= 1, got 0");
        assertMessage(() -> PipelinePartition.parse("4,4", 8, 3), "has 2 entries for 3 stages");
        assertMessage(() -> PipelinePartition.parse("4,x,4", 12, 3), "entry 1 (\"x\") is not a number");
        assertMessage(() -> PipelinePartition.parse("+4,4,4", 12, 3), "entry 0 (\"+4\") is not a number");
        assertMessage(() -> PipelinePartition.parse("4,\u0664,4", 12, 3), "entry 1 (\"\u0664\") is not a number");
        assertMessage(() -> PipelinePartition.parse("4,0,4", 8, 3), "stage 1 has 0 layers");
        assertMessage(() -> PipelinePartition.parse("4,4,4", 13, 3), "sums to 12 layers, not 13");
        assertMessage(() -> PipelinePartition.parse(" ", 13, 3), "partition spec is empty");
    }

    /**
     * Every split of {@code bytes.length} layers over {@code stages}, as layer counts. Small cases only: at most
     * C(11, 4) = 330 splits for 12 layers on 5 stages.
     */
    private static List<int[]> allSplits(int layers, int stages) {
        List<int[]> out = new ArrayList<>();
        enumerate(layers, stages, 0, 0, new int[stages], out);
        return out;
    }

    private static void enumerate(int layers, int stages, int stage, int from, int[] counts, List<int[]> out) {
        if (stage == stages - 1) {
            counts[stage] = layers - from;
            if (counts[stage] >= 1) {
                out.add(counts.clone());
            }
            return;
        }
        for (int n = 1; from + n <= layers - (stages - 1 - stage); n++) {
            counts[stage] = n;
            enumerate(layers, stages, stage + 1, from + n, counts, out);
        }
    }

    /** The stage sizes of {@code counts}, written out here rather than taken from the code under test. */
    private static long[] sizes(int[] counts, long[] bytes, long first, long last) {
        long[] out = new long[counts.length];
        int layer = 0;
        for (int s = 0; s < counts.length; s++) {
            for (int k = 0; k < counts[s]; k++) {
                out[s] += bytes[layer++];
            }
        }
        out[0] += first;
        out[counts.length - 1] += last;
        return out;
    }

    /** Sorted in decreasing order: the vector docs/contract.md section 11 compares lexicographically. */
    private static long[] decreasing(long[] sizes) {
        return Arrays.stream(sizes).boxed().sorted(Comparator.reverseOrder()).mapToLong(Long::longValue).toArray();
    }

    /** Brute force: the least lopsided split; among equals, the most layers on earlier stages. */
    private static int[] bruteForce(long[] bytes, int stages, long first, long last) {
        int[] best = null;
        for (int[] c : allSplits(bytes.length, stages)) {
            if (best == null) {
                best = c;
                continue;
            }
            int order = Arrays.compare(decreasing(sizes(c, bytes, first, last)), decreasing(sizes(best, bytes, first, last)));
            if (order < 0 || order == 0 && Arrays.compare(c, best) > 0) {
                best = c;
            }
        }
        return best;
    }

    /** Small cases, {@code spread} small enough that equal stages (and so the tie-break) are common. */
    private static long[] layerBytes(long[] raw, int spread) {
        return Arrays.stream(raw).map(b -> Math.floorMod(b, spread + 1)).toArray();
    }

    @Property(tries = 400)
    void memoryBalancedSplitIsTheBruteForceOne(@ForAll @Size(min = 1, max = 12) long[] raw,
                                               @ForAll @IntRange(min = 1, max = 5) int stagesRaw,
                                               @ForAll @IntRange(min = 0, max = 1000) int spread,
                                               @ForAll @LongRange(min = 0, max = 1000) long embedding,
                                               @ForAll @LongRange(min = 0, max = 1000) long head) {
        long[] bytes = layerBytes(raw, spread);
        int stages = Math.min(stagesRaw, bytes.length);
        PipelinePartition dp = MemoryBalancedPartition.split(bytes, stages, embedding, head);
        int[] brute = bruteForce(bytes, stages, embedding, head);
        assertArrayEquals(brute, dp.layerCounts(), "layers " + Arrays.toString(bytes) + ", ends " + embedding + "/" + head);
        long[] dpSizes = sizes(dp.layerCounts(), bytes, embedding, head);
        for (int[] other : allSplits(bytes.length, stages)) {
            long[] otherSizes = sizes(other, bytes, embedding, head);
            assertTrue(max(dpSizes) <= max(otherSizes), "no split has a smaller largest stage");
            assertTrue(MemoryBalancedPartition.compareLopsidedness(dpSizes, otherSizes) <= 0);
        }
    }

    /** Never more lopsided than the even split by layer count, with either remainder rule. */
    @Property(tries = 400)
    void memoryBalancedSplitIsNeverMoreLopsidedThanTheEvenSplit(@ForAll @Size(min = 1, max = 12) long[] raw,
                                                                @ForAll @IntRange(min = 1, max = 5) int stagesRaw,
                                                                @ForAll @IntRange(min = 0, max = 1000) int spread,
                                                                @ForAll @LongRange(min = 0, max = 3000) long embedding,
                                                                @ForAll @LongRange(min = 0, max = 3000) long head) {
        long[] bytes = layerBytes(raw, spread);
        int stages = Math.min(stagesRaw, bytes.length);
        long[] chosen = decreasing(sizes(MemoryBalancedPartition.split(bytes, stages, embedding, head).layerCounts(),
                bytes, embedding, head));
        for (Remainder r : Remainder.values()) {
            long[] even = decreasing(sizes(PipelinePartition.balanced(bytes.length, stages, r).layerCounts(), bytes,
                    embedding, head));
            assertTrue(Arrays.compare(chosen, even) <= 0, Arrays.toString(chosen) + " vs even (" + r + ") "
                    + Arrays.toString(even));
        }
    }

    /**
     * With alike layers (a dense model: every layer the same bytes) and any embedding and head, the largest over
     * the smallest stage is never more than the even split's either.
     */
    @Property(tries = 600)
    void withAlikeLayersTheImbalanceIsNoWorseThanTheEvenSplits(@ForAll @IntRange(min = 1, max = 12) int layers,
                                                              @ForAll @IntRange(min = 1, max = 5) int stagesRaw,
                                                              @ForAll @LongRange(min = 1, max = 1000) long layer,
                                                              @ForAll @LongRange(min = 0, max = 5000) long embedding,
                                                              @ForAll @LongRange(min = 0, max = 5000) long head) {
        long[] bytes = new long[layers];
        Arrays.fill(bytes, layer);
        int stages = Math.min(stagesRaw, layers);
        long[] chosen = sizes(MemoryBalancedPartition.split(bytes, stages, embedding, head).layerCounts(), bytes,
                embedding, head);
        for (Remainder r : Remainder.values()) {
            long[] even = sizes(PipelinePartition.balanced(layers, stages, r).layerCounts(), bytes, embedding, head);
            // max(c)/min(c) <= max(e)/min(e), in integers
            assertTrue(max(chosen) * min(even) <= max(even) * min(chosen), Arrays.toString(chosen) + " vs even ("
                    + r + ") " + Arrays.toString(even));
        }
    }

    /**
     * With unequal layers the largest over the smallest stage can exceed the even split's while the largest stage
     * (what bounds memory) is smaller: the contract orders splits by their sorted sizes, not by that ratio.
     */
    @Example
    void withUnequalLayersTheRatioIsNotWhatIsMinimised() {
        long[] bytes = {29, 29, 29, 29, 29, 33, 33};
        PipelinePartition chosen = MemoryBalancedPartition.split(bytes, 4, 56, 22);
        assertArrayEquals(new int[] {1, 3, 2, 1}, chosen.layerCounts());
        long[] c = sizes(chosen.layerCounts(), bytes, 56, 22);
        long[] even = sizes(PipelinePartition.balanced(7, 4, Remainder.LAST).layerCounts(), bytes, 56, 22);
        assertArrayEquals(new long[] {85, 87, 62, 55}, c);
        assertArrayEquals(new long[] {85, 58, 58, 88}, even);
        assertTrue(max(c) < max(even) && (double) max(c) / min(c) > (double) max(even) / min(even));
    }

    private static long max(long[] values) {
        return Arrays.stream(values).max().orElseThrow();
    }

    private static long min(long[] values) {
        return Arrays.stream(values).min().orElseThrow();
    }

    @Example
    void amongEqualSplitsTheExtraLayersGoFirst() {
        // 10 alike layers on 4 stages, no ends: 3,3,2,2 and its permutations have the same sizes; the first wins.
        long[] layers = new long[10];
        Arrays.fill(layers, 7);
        assertArrayEquals(new int[] {3, 3, 2, 2}, MemoryBalancedPartition.split(layers, 4, 0, 0).layerCounts());
    }

    @Example
    void aHeavyEmbeddingAndHeadPushLayersToTheMiddle() {
        long[] layers = new long[8];
        Arrays.fill(layers, 10);
        PipelinePartition p = MemoryBalancedPartition.split(layers, 4, 25, 25);
        assertArrayEquals(new int[] {1, 3, 3, 1}, p.layerCounts());
    }
}
