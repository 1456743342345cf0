package io.tpkernels.ops;

import static io.tpkernels.ops.Gradcheck.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.RandomData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link LmHeadBackward} on a GPU against the CPU path: {@code dz}'s rows {@code S} apart with padding columns holding
 * values that must not count (random, as a careless caller might leave them), a shard with no valid row.
 */
@GpuTest
class LmHeadBackwardCudaTest {
    private static final Device GPU = Device.cuda(0);

    @ParameterizedTest(name = "W {0}: T={1} H={2} valid={3} S={4}")
    @CsvSource({
        "F32, 9, 40, 70, 80",
        "BF16, 33, 65, 100, 128",
        "F16, 4, 16, 64, 64",
        "BF16, 20, 24, 0, 16",
    })
    void matchesTheCpu(DType wType, int t, int h, int valid, int s) {
        try (ExecutionContext ctx = ExecutionContext.create(GPU);
             Tensor dz = RandomData.moderateOn(GPU, DType.F32, 3, t, s);
             Tensor w = RandomData.moderateOn(GPU, wType, 4, valid, h);
             Tensor dzHost = dz.copyTo(Device.CPU);
             Tensor wHost = w.copyTo(Device.CPU);
             Tensor want = LmHeadBackward.inputGradient(ExecutionContext.cpu(), dzHost, wHost);
             Tensor dx = LmHeadBackward.inputGradient(ctx, dz, w)) {
            ctx.synchronize();
            float[] got = dx.toFloatArray();
            assertClose(want.toFloatArray(), got, 1e-5, "dx");
            if (valid == 0) {
                assertArrayEquals(new float[t * h], got, "a shard with no valid row contributes zeros");
            }
        }
    }
}
