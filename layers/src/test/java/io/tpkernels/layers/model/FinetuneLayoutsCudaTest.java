package io.tpkernels.layers.model;

import io.tpkernels.layers.Precision;
import io.tpkernels.layers.model.TrainingRun.Faults;
import io.tpkernels.layers.model.TrainingRun.Layout;
import io.tpkernels.layers.model.TrainingRun.Outcome;
import io.tpkernels.runtime.Device;
import io.tpkernels.testing.GpuTest;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fine-tuning on a GPU: tp 1 on the GPU follows tp 1 on the CPU (F32: within 1e-5 relative per step; BF16: within
 * 1e-2), and tp 2, tp 4 and tp 2 × pp 2 on the GPU follow tp 1 on the GPU as on the CPU, with replicated factors the same
 * bits on every rank after every step.
 */
@GpuTest
class FinetuneLayoutsCudaTest {
    static final Device GPU = Device.cuda(0);

    @Test
    void theGpuTrainsAsTheCpuDoes() {
        Outcome cpu = TrainingRun.run(TrainingRun.adapter(), FinetuneLayoutsTest.STEPS, Layout.cpu(1, 1, 1),
                FinetuneLayoutsTest.CLIP, Faults.NONE);
        Outcome gpu = TrainingRun.run(TrainingRun.adapter(), FinetuneLayoutsTest.STEPS,
                new Layout(1, 1, 1, GPU, Precision.F32), FinetuneLayoutsTest.CLIP, Faults.NONE);
        FinetuneLayoutsTest.assertLossesMatch(cpu, gpu, 1e-5, "tp 1 on the GPU, F32");
        Outcome bf16 = TrainingRun.run(TrainingRun.adapter(), FinetuneLayoutsTest.STEPS,
                new Layout(1, 1, 1, GPU, Precision.BF16), FinetuneLayoutsTest.CLIP, Faults.NONE);
        FinetuneLayoutsTest.assertLossesMatch(cpu, bf16, 1e-2, "tp 1 on the GPU, BF16");
    }

    static Stream<Layout> layouts() {
        return Stream.of(new Layout(2, 1, 1, GPU, Precision.F32), new Layout(4, 1, 1, GPU, Precision.F32),
                new Layout(2, 2, 2, GPU, Precision.F32));
    }

    @ParameterizedTest
    @MethodSource("layouts")
    void everyLayoutOnTheGpuTrainsAsTp1Does(Layout layout) {
        Outcome reference = TrainingRun.run(TrainingRun.adapter(), FinetuneLayoutsTest.STEPS,
                new Layout(1, 1, 1, GPU, Precision.F32), FinetuneLayoutsTest.CLIP, Faults.NONE);
        Outcome got = TrainingRun.run(TrainingRun.adapter(), FinetuneLayoutsTest.STEPS, layout, FinetuneLayoutsTest.CLIP,
                Faults.NONE);
        FinetuneLayoutsTest.assertLossesMatch(reference, got, 1e-5, layout.toString());
        FinetuneLayoutsTest.assertReplicatedAgree(got, layout.toString());
    }
}
