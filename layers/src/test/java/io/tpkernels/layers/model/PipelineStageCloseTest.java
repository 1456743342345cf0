package io.tpkernels.layers.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.layers.Harness;
import io.tpkernels.layers.Precision;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.weights.InMemoryWeights;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.MemoryMeter;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.PipelinePartition;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A pipeline stage owns its embedding, blocks and head: closing it gives back every byte its load allocated,
 * on every stage, tied or not; a single-stage pipeline used after close throws {@link IllegalStateException}.
 * (Across stages a closed stage 0 would leave stage 1 waiting for activations until the group's timeout, so
 * use after close is checked where there is one stage.)
 */
class PipelineStageCloseTest {

    @ParameterizedTest(name = "tp {0} × pp {1}, tied {2}")
    @CsvSource({"2, 1, true", "2, 1, false", "1, 2, true", "2, 2, false"})
    void closingAStageGivesBackEveryByte(int tp, int pp, boolean tied) {
        check(Device.CPU, tp, pp, tied);
    }

    /** The property on {@code device}. */
    static void check(Device device, int tp, int pp, boolean tied) {
        int vocab = 41;
        int hidden = 2 * tp;
        int inter = 3 * tp;
        int layers = pp + 1;
        try (InMemoryWeights weights = Harness.randomWeights(vocab, DType.F32,
                PipelineStagePropertiesTest.shapes(vocab, hidden, inter, layers, tied), true)) {
            var config = new ModelConfig(vocab, hidden, inter, layers, 0, 0, 0, tied);
            var spec = new PipelineStage.Spec(config, PipelinePartition.balanced(layers, pp,
                    PipelinePartition.Remainder.FIRST), device, Precision.BF16, 8);
            LocalGroup.runMesh(tp, pp, Duration.ofSeconds(60), mesh -> {
                String what = "stage " + mesh.stage() + " rank " + mesh.tpRank();
                MemoryMeter meter = MemoryMeter.start();
                PipelineStage stage;
                try (meter) {
                    stage = PipelineStage.load(weights, spec, mesh, LoraAdapters.NONE, layer -> { });
                }
                assertTrue(meter.liveBytes(device) > 0, what + " holds its shards");
                try (Tensor ids = Tensor.ofLongs(DType.I64, new long[] {0, vocab - 1, 5}, 3)) {
                    Tensor logits = stage.logits(ids);
                    if (logits != null) {
                        Harness.drain(logits);
                    }
                    stage.close();
                    assertEquals(0, meter.liveBytes(device), what + ": closed, it holds nothing on " + device);
                    assertEquals(0, meter.liveBytes(Device.CPU), what + ": closed, it holds nothing on the host");
                    if (pp == 1) {
                        assertThrows(IllegalStateException.class, () -> stage.logits(ids), what + " after close");
                    }
                    stage.close();
                }
                return null;
            });
        }
    }
}
