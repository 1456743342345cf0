package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.testing.GpuTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fused LM head and cross-entropy on a GPU against the unfused form on the CPU (F32: loss within 1e-6 relative,
 * gradients within 1e-5 of their scale; BF16 inputs read alike, so the same bounds), and its peak device memory far
 * below the logits it never holds.
 */
@GpuTest
class LmHeadCrossEntropyCudaTest {
    private static final Device GPU = Device.cuda(0);

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> problems() {
        return LmHeadCrossEntropyTest.problems();
    }

    @ParameterizedTest
    @MethodSource("problems")
    void theGpuGivesTheCpusUnfusedLossAndGradients(FusedLossRun.Problem p, int tp) {
        FusedLossRun cpu = FusedLossRun.run(p, tp, Device.CPU, false);
        FusedLossRun gpu = FusedLossRun.run(p, tp, GPU, true);
        LmHeadCrossEntropyTest.assertSame(cpu, gpu, 1e-5, "GPU fused, T=" + p.t() + " tp " + tp + " " + p.dtype());
    }

    @Test
    void theFusedFormNeverHoldsTheLogitsOnTheDevice() {
        FusedLossRun.Problem p = new FusedLossRun.Problem(1024, 8, 8000, 512, DType.F32,
                FusedLossRun.targets(1024, 8000, 11, 5));
        FusedLossRun fused = FusedLossRun.run(p, 1, GPU, true);
        long logits = fused.shardBytes().get(0);
        assertTrue(fused.peakBytes().get(0) > 0, "the meter sees the device allocations");
        assertTrue(fused.peakBytes().get(0) * 16 <= logits, "fused peak " + fused.peakBytes().get(0)
                + " bytes, more than 1/16 of the logits' " + logits);
    }
}
