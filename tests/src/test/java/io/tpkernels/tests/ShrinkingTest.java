package io.tpkernels.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.shard.PipelinePartition;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.testkit.TpkArbitraries;
import java.util.Optional;
import java.util.Random;
import java.util.function.Predicate;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Shrinkable;
import net.jqwik.api.Example;

/**
 * The testkit's generators shrink: a false claim about shards is found and then reduced, by jqwik's own
 * shrink candidates, to the smallest counterexample there is. (jqwik examples: generators need a jqwik thread.)
 */
class ShrinkingTest {

    /** Generates until {@code falsified} holds, then greedily follows shrink candidates that still falsify. */
    private static <T> T smallestCounterexample(Arbitrary<T> arbitrary, Predicate<T> falsified) {
        Random random = new Random(42);
        Shrinkable<T> current = null;
        for (int i = 0; i < 100_000 && current == null; i++) {
            Shrinkable<T> s = arbitrary.generator(1000).next(random);
            if (falsified.test(s.value())) {
                current = s;
            }
        }
        assertTrue(current != null, "the generator never produced a counterexample");
        for (int steps = 0; steps < 10_000; steps++) {
            Optional<Shrinkable<T>> smaller = current.shrink().filter(s -> falsified.test(s.value())).findFirst();
            if (smaller.isEmpty()) {
                break;
            }
            current = smaller.get();
        }
        return current.value();
    }

    @Example
    void theClaimEveryShardHoldsARealRowShrinksToTwoRanksOfAOneTokenVocabulary() {
        VocabShard shard = smallestCounterexample(TpkArbitraries.vocabShards(), s -> s.validRows() == 0);
        assertEquals(VocabShard.of(1, 2, 1, 1), shard);
    }

    @Example
    void theClaimNoStageHasThreeLayersShrinksToASingleStageOfThree() {
        PipelinePartition p = smallestCounterexample(TpkArbitraries.partitions(),
                q -> java.util.Arrays.stream(q.layerCounts()).anyMatch(n -> n == 3));
        assertEquals(PipelinePartition.of(3), p);
    }
}
