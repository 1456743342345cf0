package io.tpkernels.layers;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.weights.InMemoryWeights;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.GpuTest;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The backward runs on the CPU only so far: on a GPU context each linear layer refuses it, naming itself. */
@GpuTest
class LinearBackwardCudaTest {
    private static final Device GPU = Device.cuda(0);

    @Test
    void everyLinearLayerRefusesItsBackwardOnAGpuByName() {
        BackwardRun.Problem p = new BackwardRun.Problem(8, 8, 2, 4, 11);
        try (InMemoryWeights weights = p.weights()) {
            Harness.onRanks(2, GPU, Precision.F32, ctx -> {
                for (LoraLayout layout : List.of(LoraLayout.COLUMN, LoraLayout.ROW)) {
                    for (boolean lora : new boolean[] {false, true}) {
                        LoraSource source = lora ? new LoraSource.FromAdapter(weights, "a", "b", 1f) : null;
                        try (LoraLayout.Layer layer = layout.load(weights, null, 8, 8, ctx, source);
                             Tensor xh = layout.input(p.x(), 4, 8, DType.F32, ctx.rank(), 2);
                             Tensor x = xh.copyTo(GPU);
                             Tensor dyh = BackwardRun.outputGradient(layout, p.dy(), p, ctx.rank(), 2);
                             Tensor dy = dyh.copyTo(GPU)) {
                            String message = assertThrows(UnsupportedOperationException.class,
                                    () -> BackwardRun.backward(layer.owner(), x, dy)).getMessage();
                            String name = layer.owner().getClass().getSimpleName();
                            assertTrue(message.startsWith(name + " backward") && message.contains("CPU only"),
                                    message);
                        }
                    }
                }
                return null;
            });
        }
    }
}
