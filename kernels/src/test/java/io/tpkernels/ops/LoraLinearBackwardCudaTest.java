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
 * {@link LoraLinearBackward} on a GPU against the CPU path on the same random inputs: all three gradients, allocated
 * and into views of one packed buffer. F32 to f32 rounding; with 16-bit operands {@code dB} within a rounding of
 * {@code xs = round(s·x·Aᵀ)} to that type, which the two paths' shrinks may round either way.
 */
@GpuTest
class LoraLinearBackwardCudaTest {
    private static final Device GPU = Device.cuda(0);

    @ParameterizedTest(name = "x {0}, dy {1}: T={2} K={3} N={4} R={5}")
    @CsvSource({
        "F32, F32, 7, 40, 33, 4",
        "BF16, F32, 70, 65, 96, 8",
        "BF16, BF16, 17, 64, 48, 16",
        "F16, F32, 5, 24, 70, 3",
    })
    void matchesTheCpu(DType dtype, DType dyType, int t, int k, int n, int r) {
        float scale = 1.5f;
        try (ExecutionContext ctx = ExecutionContext.create(GPU);
             Tensor x = RandomData.moderateOn(GPU, dtype, 1, t, k);
             Tensor w = RandomData.moderateOn(GPU, dtype, 2, n, k);
             Tensor a = RandomData.moderateOn(GPU, dtype, 3, r, k);
             Tensor b = RandomData.moderateOn(GPU, dtype, 4, n, r);
             Tensor dy = RandomData.moderateOn(GPU, dyType, 5, t, n);
             Tensor xh = x.copyTo(Device.CPU);
             Tensor wh = w.copyTo(Device.CPU);
             Tensor ah = a.copyTo(Device.CPU);
             Tensor bh = b.copyTo(Device.CPU);
             Tensor dyh = dy.copyTo(Device.CPU);
             LoraLinearBackward.Gradients want = LoraLinearBackward.backward(ExecutionContext.cpu(), xh, wh, ah, bh,
                     scale, dyh);
             LoraLinearBackward.Gradients got = LoraLinearBackward.backward(ctx, x, w, a, b, scale, dy);
             Tensor packed = Tensor.allocate(ctx, DType.F32, t * k + r * k + n * r)) {
            Tensor dx = packed.viewBytes(0, DType.F32, t, k);
            Tensor dA = packed.viewBytes(4L * t * k, DType.F32, r, k);
            Tensor dB = packed.viewBytes(4L * (t * k + r * k), DType.F32, n, r);
            LoraLinearBackward.backward(ctx, x, w, a, b, scale, dy, dx, dA, dB);
            ctx.synchronize();
            double dbTolerance = dtype == DType.F32 ? 1e-5 : 1e-2;
            for (Tensor[] pair : new Tensor[][] {{got.dx(), got.dA(), got.dB()}, {dx, dA, dB}}) {
                assertClose(want.dx().toFloatArray(), pair[0].toFloatArray(), 1e-5, "dx");
                assertClose(want.dA().toFloatArray(), pair[1].toFloatArray(), 1e-5, "dA");
                assertClose(want.dB().toFloatArray(), pair[2].toFloatArray(), dbTolerance, "dB");
            }
        }
    }
}
