package io.tpkernels.tests;

import static io.tpkernels.tests.VocabPaddingPropertiesTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tpkernels.shard.ShardRange;
import io.tpkernels.testkit.EvenShardSpec;
import java.util.List;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** docs/contract.md section 3 over the testkit's even shard specs. */
class ShardRangePropertiesTest {

    @Property(tries = 300)
    void partsAreEqualContiguousAndCoverTheDimension(@ForAll EvenShardSpec spec) {
        List<ShardRange> ranges = spec.ranges();
        assertEquals(0, ranges.get(0).start());
        for (int i = 0; i < ranges.size(); i++) {
            ShardRange r = ranges.get(i);
            assertEquals(spec.size() / spec.parts(), r.length());
            assertEquals((long) i * spec.size() / spec.parts(), r.start());
            if (i > 0) {
                assertEquals(ranges.get(i - 1).end(), r.start());
            }
        }
        assertEquals(spec.size(), ranges.get(ranges.size() - 1).end());
    }

    @Property(tries = 200)
    void equalInputsGiveEqualValues(@ForAll ShardRange range) {
        assertEquals(range, ShardRange.of(range.size(), range.parts(), range.index()));
    }

    @Example
    void indivisibleSizesAreRejectedNamingSizePartsAndTensor() {
        assertMessage(() -> ShardRange.of(10, 4, 0), "size 10 is not divisible by 4 parts");
        assertMessage(() -> ShardRange.of("model.layers.0.mlp.up_proj.weight", 11008, 3, 0),
                "model.layers.0.mlp.up_proj.weight: size 11008 is not divisible by 3 parts");
        assertMessage(() -> ShardRange.of(8, 0, 0), "parts must be >= 1, got 0");
        assertMessage(() -> ShardRange.of(8, 2, 2), "index 2 is outside [0, 2)");
        assertMessage(() -> ShardRange.of(-2, 2, 0), "size must be >= 0, got -2");
    }
}
