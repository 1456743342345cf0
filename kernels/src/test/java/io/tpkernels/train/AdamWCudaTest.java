package io.tpkernels.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.RandomData;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * AdamW's step on the GPU gives the CPU's bits: parameter, first and second moment after every step, with a new
 * gradient each step, weight decay on and off.
 */
@GpuTest
class AdamWCudaTest {

    private static final Device GPU = Device.cuda(0);

    @ParameterizedTest(name = "n={0} wd={1} lr={2}")
    @CsvSource({"1, 0, 1e-3", "1000, 0.01, 3e-4", "4099, 0.1, 0.05"})
    void everyStepGivesTheCpusBits(int n, double weightDecay, double lr) {
        AdamWConfig config = AdamWConfig.of(lr).withWeightDecay(weightDecay);
        float[] start = RandomData.moderate(n, n);
        try (ExecutionContext gpu = ExecutionContext.create(GPU);
             Tensor cpuValue = Tensor.ofFloats(DType.F32, start, n);
             Tensor cpuGrad = Tensor.zeros(Device.CPU, DType.F32, n);
             Tensor gpuValue = cpuValue.copyTo(GPU);
             Tensor gpuGrad = Tensor.zeros(GPU, DType.F32, n);
             AdamW onCpu = new AdamW(ExecutionContext.cpu(), config,
                     List.of(new Parameter("w", cpuValue, cpuGrad, Placement.REPLICATED)));
             AdamW onGpu = new AdamW(gpu, config, List.of(new Parameter("w", gpuValue, gpuGrad, Placement.REPLICATED)))) {
            for (int step = 1; step <= 5; step++) {
                try (Tensor g = Tensor.ofFloats(DType.F32, RandomData.moderate(step * 7919L + n, n), n)) {
                    cpuGrad.copyFrom(g);
                    gpuGrad.copyFrom(g);
                }
                onCpu.step(ExecutionContext.cpu());
                onGpu.step(gpu);
                assertArrayEquals(cpuValue.toFloatArray(), gpuValue.toFloatArray(), "p after step " + step);
                assertArrayEquals(onCpu.firstMoment(0).toFloatArray(), onGpu.firstMoment(0).toFloatArray(),
                        "m after step " + step);
                assertArrayEquals(onCpu.secondMoment(0).toFloatArray(), onGpu.secondMoment(0).toFloatArray(),
                        "v after step " + step);
            }
        }
    }
}
