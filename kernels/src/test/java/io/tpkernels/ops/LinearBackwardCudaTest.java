package io.tpkernels.ops;

import static io.tpkernels.ops.Gradcheck.assertClose;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.RandomData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link LinearBackward} on a GPU against the CPU path on the same random inputs, allocated and into a view. */
@GpuTest
class LinearBackwardCudaTest {
    private static final Device GPU = Device.cuda(0);

    @ParameterizedTest(name = "W {0}, dy {1}: T={2} N={3} K={4}")
    @CsvSource({
        "F32, F32, 7, 40, 33",
        "BF16, F32, 70, 65, 129",
        "BF16, BF16, 5, 96, 64",
        "F16, BF16, 33, 17, 9",
    })
    void matchesTheCpu(DType wType, DType dyType, int t, int n, int k) {
        try (ExecutionContext ctx = ExecutionContext.create(GPU);
             Tensor dy = RandomData.moderateOn(GPU, dyType, 1, t, n);
             Tensor w = RandomData.moderateOn(GPU, wType, 2, n, k);
             Tensor dyHost = dy.copyTo(Device.CPU);
             Tensor wHost = w.copyTo(Device.CPU);
             Tensor want = LinearBackward.inputGradient(ExecutionContext.cpu(), dyHost, wHost);
             Tensor got = LinearBackward.inputGradient(ctx, dy, w);
             Tensor packed = Tensor.allocate(ctx, DType.F32, 2 * t * k + 3)) {
            // Into a view in the middle of a packed buffer, as a layer's all-reduce wants it.
            Tensor view = packed.viewBytes(4L * (t * k + 3), DType.F32, t, k);
            LinearBackward.inputGradient(ctx, dy, w, view);
            ctx.synchronize();
            float[] cpu = want.toFloatArray();
            assertClose(cpu, got.toFloatArray(), 1e-5, "dx");
            assertClose(cpu, view.toFloatArray(), 1e-5, "dx into a view");
        }
    }
}
