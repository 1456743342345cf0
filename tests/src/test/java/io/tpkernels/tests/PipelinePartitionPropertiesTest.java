package io.tpkernels.tests;

import static io.tpkernels.tests.VocabPaddingPropertiesTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.shard.MemoryBalancedPartition;
import io.tpkernels.shard.PipelinePartition;
import io.tpkernels.shard.PipelinePartition.Remainder;
import io.tpkernels.testkit.PartitionSpec;
import java.util.Arrays;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

/** SEMANTICS.md section 7 over the testkit's partitions, and the memory-balanced split against brute force. */
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
        assertMessage(() -> PipelinePartition.parse("4,0,4", 8, 3), "stage 1 has 0 layers");
        assertMessage(() -> PipelinePartition.parse("4,4,4", 13, 3), "sums to 12 layers, not 13");
        assertMessage(() -> PipelinePartition.parse(" ", 13, 3), "partition spec is empty");
    }

    /** The DP's answer is no worse than any split, checked by enumerating every split of small cases. */
    @Property(tries = 150)
    void memoryBalancedSplitIsOptimal(@ForAll @Size(min = 1, max = 10) long[] layerBytesRaw,
                                      @ForAll @IntRange(min = 1, max = 10) int stagesRaw,
                                      @ForAll @LongRange(min = 0, max = 1000) long embedding,
                                      @ForAll @LongRange(min = 0, max = 1000) long head) {
        long[] layerBytes = Arrays.stream(layerBytesRaw).map(b -> Math.floorMod(b, 1000)).toArray();
        int stages = Math.min(stagesRaw, layerBytes.length);
        PipelinePartition dp = MemoryBalancedPartition.split(layerBytes, stages, embedding, head);
        long dpMax = max(MemoryBalancedPartition.stageBytes(dp, layerBytes, embedding, head));
        long bruteMax = bruteForce(layerBytes, stages, embedding, head, 0, 0, new int[stages]);
        assertEquals(bruteMax, dpMax, "DP split " + dp);
        long balancedMax = max(MemoryBalancedPartition.stageBytes(
                PipelinePartition.balanced(layerBytes.length, stages, Remainder.FIRST), layerBytes, embedding, head));
        assertTrue(dpMax <= balancedMax);
    }

    private static long bruteForce(long[] bytes, int stages, long first, long last, int stage, int from, int[] counts) {
        if (stage == stages - 1) {
            counts[stage] = bytes.length - from;
            return counts[stage] < 1 ? Long.MAX_VALUE
                    : max(MemoryBalancedPartition.stageBytes(PipelinePartition.of(counts), bytes, first, last));
        }
        long best = Long.MAX_VALUE;
        for (int n = 1; from + n <= bytes.length - (stages - 1 - stage); n++) {
            counts[stage] = n;
            best = Math.min(best, bruteForce(bytes, stages, first, last, stage + 1, from + n, counts));
        }
        return best;
    }

    private static long max(long[] values) {
        return Arrays.stream(values).max().orElseThrow();
    }

    @Example
    void aHeavyEmbeddingAndHeadPushLayersToTheMiddle() {
        long[] layers = new long[8];
        Arrays.fill(layers, 10);
        PipelinePartition p = MemoryBalancedPartition.split(layers, 4, 25, 25);
        assertArrayEquals(new int[] {1, 3, 3, 1}, p.layerCounts());
    }
}
