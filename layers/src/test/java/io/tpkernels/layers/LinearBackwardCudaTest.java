package io.tpkernels.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.Device;
import io.tpkernels.testing.GpuTest;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every linear layer's backward on a GPU, in every layout, plain and LoRA, at tp 2: the same {@code dx}, {@code dA}
 * and {@code dB} as on the CPU (F32, rank 4: no padding of the rank; within 1e-5 of each value's scale), the replicated factor's gradient the same
 * bits on both ranks, and the same collectives.
 */
@GpuTest
class LinearBackwardCudaTest {
    static List<LoraLayout> layouts() {
        return LoraLayout.all();
    }

    @ParameterizedTest
    @MethodSource("layouts")
    void theGpuBackwardGivesTheCpus(LoraLayout layout) {
        BackwardRun.Problem p = new BackwardRun.Problem(16, 12, 4, 8, 5);
        for (boolean lora : new boolean[] {false, true}) {
            String what = layout + (lora ? " LoRA" : " plain");
            BackwardRun cpu = BackwardRun.run(p, layout, lora, 2);
            BackwardRun gpu = BackwardRun.run(p, layout, lora, 2, Device.cuda(0));
            close(cpu.fullDx(layout, p), gpu.fullDx(layout, p), what + " dx");
            assertEquals(cpu.calls(), gpu.calls(), what + ": collectives");
            if (lora) {
                close(cpu.fullGradA(layout, p), gpu.fullGradA(layout, p), what + " dA");
                close(cpu.fullGradB(layout), gpu.fullGradB(layout), what + " dB");
                List<float[]> replicated = layout.rowParallel() ? gpu.gradB() : gpu.gradA();
                assertArrayEquals(replicated.get(0), replicated.get(1), what + ": the replicated factor's gradient");
            }
        }
    }

    private static void close(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        double rms = 0;
        for (float v : want) {
            rms += (double) v * v;
        }
        rms = Math.sqrt(rms / want.length);
        assertTrue(rms > 0, what + ": a zero reference proves nothing");
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(got[i] - want[i]) <= 1e-5 * (Math.abs(want[i]) + rms), what + "[" + i + "]: CPU "
                    + want[i] + ", GPU " + got[i]);
        }
    }
}
