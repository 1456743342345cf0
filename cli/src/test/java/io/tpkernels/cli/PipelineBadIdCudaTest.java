package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.layers.Precision;
import io.tpkernels.layers.checkpoint.SafetensorsCheckpoint;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.model.LoraAdapters;
import io.tpkernels.layers.model.PipelineStage;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.PipelinePartition;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.testing.GpuTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On CUDA the embedding's bad-id check is read after the lookup has run (a deferred check). In a pipeline the
 * activations leave the first stage's context by a send: the check is read before they do, so the last stage never
 * returns logits computed from a bad id, and the error names the first bad position.
 */
@GpuTest
class PipelineBadIdCudaTest {

    @TempDir
    Path tmp;

    @Test
    void aBadIdStopsThePipelineBeforeTheLastStageReturnsLogits() throws Exception {
        var sizes = new DemoModelWriter.Sizes(1003, 64, 192, 2, 8, 16, false);
        Path model = Files.createDirectories(tmp.resolve("model"));
        DemoModelWriter.writeModel(model, sizes, 7);
        ModelConfig config = ModelConfig.read(model.resolve("config.json"));
        AtomicBoolean lastStageReturnedLogits = new AtomicBoolean();
        Exception e = assertThrows(Exception.class, () -> LocalGroup.runMesh(1, 2, Duration.ofSeconds(60), mesh -> {
            var spec = new PipelineStage.Spec(config, PipelinePartition.balanced(2, 2,
                    PipelinePartition.Remainder.FIRST), Device.cuda(0), Precision.F32, VocabShard.DEFAULT_MULTIPLE);
            try (WeightSource weights = SafetensorsCheckpoint.open(model);
                 PipelineStage stage = PipelineStage.load(weights, spec, mesh, LoraAdapters.NONE, layer -> { });
                 Tensor ids = Tensor.ofLongs(DType.I64, new long[] {3, 5000, 7}, 3);
                 Tensor logits = stage.logits(ids)) {
                if (logits != null) {
                    lastStageReturnedLogits.set(true);
                }
                // Both stages finish their forward before either closes (a close reads what is still deferred).
                mesh.pipeline().barrier();
            }
            return null;
        }));
        assertFalse(lastStageReturnedLogits.get(), "the last stage returned logits computed from a bad id");
        String messages = chain(e);
        assertTrue(messages.contains("token id 5000 at position 1 is outside [0, 1003)"), messages);
    }

    private static String chain(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            b.append(c).append('\n');
            for (Throwable s : c.getSuppressed()) {
                b.append("  suppressed: ").append(s).append('\n');
            }
        }
        return b.toString();
    }
}
