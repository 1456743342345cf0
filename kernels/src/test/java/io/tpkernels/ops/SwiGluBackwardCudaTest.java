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

/**
 * {@link SwiGluBackward} on a GPU against the CPU path: random gates scaled to reach both tails of σ, including gates
 * below −88 where {@code e^−g} overflows f32 (both gradients 0, never NaN).
 */
@GpuTest
class SwiGluBackwardCudaTest {
    private static final Device GPU = Device.cuda(0);

    @ParameterizedTest(name = "g, u {0}, da {1}: {2} elements")
    @CsvSource({"F32, F32, 10007", "BF16, F32, 4099", "BF16, BF16, 513", "F16, F32, 1000", "F32, F16, 77"})
    void matchesTheCpu(DType dtype, DType daType, int n) {
        float[] gates = RandomData.moderate(1, n);
        for (int i = 0; i < n; i++) {
            gates[i] *= i % 97 == 0 ? 60 : 8; // |g| up to about a hundred: σ near 0 and 1, and e^−g overflowing
        }
        try (ExecutionContext ctx = ExecutionContext.create(GPU);
             Tensor gHost = Tensor.ofFloats(dtype, gates, n);
             Tensor uHost = Tensor.ofFloats(dtype, RandomData.moderate(2, n), n);
             Tensor daHost = Tensor.ofFloats(daType, RandomData.moderate(3, n), n);
             Tensor g = gHost.copyTo(GPU);
             Tensor u = uHost.copyTo(GPU);
             Tensor da = daHost.copyTo(GPU);
             SwiGluBackward.Gradients want = SwiGluBackward.backward(ExecutionContext.cpu(), gHost, uHost, daHost);
             SwiGluBackward.Gradients got = SwiGluBackward.backward(ctx, g, u, da)) {
            ctx.synchronize();
            assertClose(want.dGate().toFloatArray(), got.dGate().toFloatArray(), 1e-5, "dg");
            assertClose(want.dUp().toFloatArray(), got.dUp().toFloatArray(), 1e-5, "du");
        }
    }
}
