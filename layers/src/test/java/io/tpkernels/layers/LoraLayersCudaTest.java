package io.tpkernels.layers;

import io.tpkernels.runtime.Device;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testkit.ShardedLinearShape;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The LoRA layer properties with tp ranks sharing one GPU: output equal to the unsharded math in every layout and
 * dtype; the initialisation, gathered, equal to the unsharded one and to the definition bit for bit; with
 * {@code B = 0} the base layer's output exactly, at aligned and unaligned LoRA ranks, with the base layer's
 * collectives and no other.
 */
@GpuTest
class LoraLayersCudaTest {
    private static final Device GPU = Device.cuda(0);
    private static final List<LoraLayout> LAYOUTS = LoraLayout.all();

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 8})
    void shardedAdapterOutputEqualsTheUnshardedMath(int tp) {
        Precision[] precisions = Precision.values();
        for (int i = 0; i < LAYOUTS.size(); i++) {
            LoraLayersPropertiesTest.check(GPU, precisions[i % precisions.length], tp, 4 * tp, 8 * tp, 2 + i, 2 * tp,
                    LAYOUTS.get(i), i % 2 == 0, i % 3 != 1);
        }
        // One token in half precision: the one-launch decode kernel.
        LoraLayersPropertiesTest.check(GPU, Precision.BF16, tp, 8 * tp, 16 * tp, 8, 1, LoraLayout.COLUMN, false, true);
        LoraLayersPropertiesTest.check(GPU, Precision.F16, tp, 8 * tp, 16 * tp, 8, 1, LoraLayout.ROW, true, false);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 8})
    void initialisationGatheredEqualsTheUnshardedOneAndTheDefinitionBitForBit(int tp) {
        LoraInitialisationPropertiesTest.check(GPU, Precision.BF16, tp, 3 * tp, 4 * tp, 5, 11 + tp, false);
        LoraInitialisationPropertiesTest.check(GPU, Precision.BF16, tp, 3 * tp, 4 * tp, 16, 23 + tp, true);
        LoraInitialisationPropertiesTest.check(GPU, Precision.F32, tp, 2 * tp, 2 * tp, 3, 5, true);
        LoraInitialisationPropertiesTest.check(GPU, Precision.F16, tp, 2 * tp, 2 * tp, 1, 9, false);
    }

    @ParameterizedTest(name = "tp {0}, LoRA rank {1}")
    @CsvSource({"1, 1", "1, 3", "1, 12", "2, 1", "2, 3", "2, 12", "3, 1", "3, 3", "3, 12", "4, 1", "4, 3", "4, 12",
        "8, 1", "8, 3", "8, 12"})
    void withBZeroTheOutputIsTheBaseLayersExactlyAndTheCollectivesAreTheSame(int tp, int loraRank) {
        for (int i = 0; i < LAYOUTS.size(); i++) {
            Precision precision = i % 2 == 0 ? Precision.BF16 : Precision.F32;
            long tokens = i % 4 == 0 ? 1 : 3 * tp;
            LoraWithZeroBPropertiesTest.check(GPU, precision, new ShardedLinearShape(tp, tokens, 8L * tp, 4L * tp),
                    loraRank, LAYOUTS.get(i), i % 3 == 0);
        }
    }
}
