package io.tpkernels.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The collectives one backward issues on every rank, in order, counted by a recording group (docs/contract.md P1):
 * a column-parallel LoRA layer ONE all-reduce (its {@code dx} and {@code dA} packed), a row-parallel LoRA layer ONE
 * all-reduce (of {@code dB}'s partials), a plain column-parallel layer one (of {@code dx}) and a plain row-parallel
 * one none; under sequence parallelism and for a row-parallel layer's full input, what those layouts add.
 */
class LinearBackwardCollectivesTest {

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (LoraLayout layout : LoraLayout.all()) {
            for (boolean lora : new boolean[] {true, false}) {
                for (int tp : new int[] {2, 3}) {
                    out.add(Arguments.of(layout, lora, tp));
                }
            }
        }
        return out.stream();
    }

    /** What one backward of the layer issues. */
    static List<String> expected(LoraLayout layout, boolean lora) {
        List<String> calls = new ArrayList<>();
        if (!layout.rowParallel()) {
            if (!layout.tokensSharded()) {
                calls.add("allReduce SUM"); // dx, packed with dA for LoRA
            } else {
                if (lora) {
                    calls.add("allGather"); // x over tokens, again
                }
                calls.add("reduceScatter SUM"); // dx over tokens
                if (lora) {
                    calls.add("allReduce SUM"); // dA
                }
            }
            return calls;
        }
        if (layout.tokensSharded()) {
            calls.add("allGather"); // dy over tokens
        }
        if (lora) {
            calls.add("allReduce SUM"); // dB's partials
        }
        if (!layout.featuresSharded()) {
            calls.add("allGather"); // dx's column blocks: the backward of the forward's slicing
        }
        return calls;
    }

    @ParameterizedTest(name = "{0}, LoRA {1}, tp {2}")
    @MethodSource("cases")
    void oneBackwardIssuesItsCollectivesAndNoOthers(LoraLayout layout, boolean lora, int tp) {
        BackwardRun.Problem p = new BackwardRun.Problem(6, 6, 3, 6, 41);
        BackwardRun run = BackwardRun.run(p, layout, lora, tp);
        for (int rank = 0; rank < tp; rank++) {
            assertEquals(expected(layout, lora), run.calls().get(rank), layout + ", LoRA " + lora + ", rank " + rank);
        }
    }

    @ParameterizedTest(name = "tp {0}")
    @ValueSource(ints = {2, 4})
    void theFourLayersInTheirPlainestLayout(int tp) {
        BackwardRun.Problem p = new BackwardRun.Problem(8, 8, 2, 4, 43);
        LoraLayout parallelRow = new LoraLayout(true, false, true);
        assertEquals(List.of("allReduce SUM"), BackwardRun.run(p, LoraLayout.COLUMN, true, tp).calls().get(0),
                "column-parallel LoRA: dx and dA in one all-reduce");
        assertEquals(List.of("allReduce SUM"), BackwardRun.run(p, LoraLayout.COLUMN, false, tp).calls().get(0),
                "plain column-parallel: one all-reduce of dx");
        assertEquals(List.of("allReduce SUM"), BackwardRun.run(p, parallelRow, true, tp).calls().get(0),
                "row-parallel LoRA: one all-reduce of dB");
        assertEquals(List.of(), BackwardRun.run(p, parallelRow, false, tp).calls().get(0),
                "plain row-parallel: none");
    }
}
