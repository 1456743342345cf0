package io.tpkernels.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.shard.VocabShard;
import io.tpkernels.testkit.VocabShardSpec;
import java.util.List;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;

/** docs/contract.md section 2, every invariant, over the testkit's generated vocabularies. */
class VocabPaddingPropertiesTest {

    @Property(tries = 300)
    void shardsAreContiguousDisjointAndCoverThePaddedRange(@ForAll VocabShardSpec spec) {
        List<VocabShard> shards = spec.shards();
        long padded = shards.get(0).paddedVocabSize();
        assertEquals(0, shards.get(0).start());
        for (int r = 1; r < shards.size(); r++) {
            assertEquals(shards.get(r - 1).end(), shards.get(r).start(), "shard " + r + " starts where " + (r - 1) + " ends");
        }
        assertEquals(padded, shards.get(shards.size() - 1).end());
    }

    @Property(tries = 300)
    void validRowsSumToTheVocabulary(@ForAll VocabShardSpec spec) {
        assertEquals(spec.vocabSize(), spec.shards().stream().mapToLong(VocabShard::validRows).sum());
    }

    @Property(tries = 500)
    void paddingIsLessThanOneUnit(@ForAll VocabShardSpec spec) {
        VocabShard s = spec.shard(0);
        long waste = s.paddedVocabSize() - spec.vocabSize();
        assertTrue(waste >= 0 && waste < (long) spec.multiple() * spec.tpSize(), "padding " + waste);
        assertEquals(0, s.shardSize() % spec.multiple(), "S % m == 0");
        assertEquals(0, s.paddedVocabSize() % spec.tpSize(), "padded % tp == 0");
        assertEquals(s.paddedVocabSize(), s.shardSize() * spec.tpSize());
    }

    @Property(tries = 300)
    void eachShardIsValidRowsThenPadding(@ForAll VocabShard shard) {
        assertTrue(shard.validRows() >= 0 && shard.validRows() <= shard.shardSize());
        assertEquals(shard.shardSize(), shard.validRows() + shard.paddingRows());
        assertEquals(Math.max(0, Math.min(shard.shardSize(), shard.vocabSize() - shard.start())), shard.validRows());
        if (shard.validRows() > 0) {
            assertTrue(shard.contains(shard.start()) && shard.contains(shard.start() + shard.validRows() - 1));
        }
        assertTrue(!shard.contains(shard.start() + shard.validRows()), "the first padding row is not contained");
        assertTrue(!shard.contains(shard.start() - 1));
    }

    /** Every real id lies in exactly one shard's valid range, and ownerOf names it. */
    @Property(tries = 200)
    void everyIdHasExactlyOneOwner(@ForAll VocabShardSpec spec, @ForAll @LongRange(min = 0, max = 1L << 20) long seed) {
        List<VocabShard> shards = spec.shards();
        long[] ids = {0, spec.vocabSize() - 1, seed % spec.vocabSize(), (seed * 7919) % spec.vocabSize()};
        for (long id : ids) {
            long owners = shards.stream().filter(s -> s.contains(id)).count();
            assertEquals(1, owners, "id " + id + " of " + spec);
            assertTrue(shards.get(shards.get(0).ownerOf(id)).contains(id));
        }
    }

    @Example
    void megatronNumbers() {
        assertEquals(50304, VocabShard.of(50257, 1, 0, 128).paddedVocabSize());
        assertEquals(50432, VocabShard.of(50257, 2, 0, 128).paddedVocabSize());
        assertEquals(51200, VocabShard.of(50257, 8, 0, 128).paddedVocabSize());
        VocabShard last = VocabShard.of(50257, 8, 7, 128);
        assertEquals(6400, last.shardSize());
        assertEquals(44800, last.start());
        assertEquals(50257 - 44800, last.validRows());
    }

    @Example
    void aShardWithNoRealRowIsLegal() {
        VocabShard empty = VocabShard.of(10, 4, 3, 4); // padded 16, S 4: rank 3 starts at 12 > 10
        assertEquals(0, empty.validRows());
        assertEquals(4, empty.paddingRows());
        assertTrue(!empty.contains(12) && !empty.contains(9));
    }

    @Example
    void equalInputsGiveEqualValues() {
        assertEquals(VocabShard.of(32000, 4, 1, 64), VocabShard.of(32000, 4, 1, 64));
        assertEquals(VocabShard.of(32000, 4, 1, 64).hashCode(), VocabShard.of(32000, 4, 1, 64).hashCode());
    }

    @Example
    void badArgumentsNameTheirValues() {
        assertMessage(() -> VocabShard.of(0, 2, 0, 64), "vocab size must be >= 1, got 0");
        assertMessage(() -> VocabShard.of(100, 0, 0, 64), "tp size must be >= 1, got 0");
        assertMessage(() -> VocabShard.of(100, 4, 4, 64), "rank 4 is outside [0, 4)");
        assertMessage(() -> VocabShard.of(100, 4, -1, 64), "rank -1");
        assertMessage(() -> VocabShard.of(100, 4, 0, 0), "multiple must be >= 1, got 0");
        assertMessage(() -> VocabShard.of(Long.MAX_VALUE - 1, 1024, 0, Integer.MAX_VALUE), "overflows");
    }

    static void assertMessage(Runnable call, String fragment) {
        var e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().contains(fragment), "\"" + e.getMessage() + "\" should contain \"" + fragment + "\"");
    }
}
