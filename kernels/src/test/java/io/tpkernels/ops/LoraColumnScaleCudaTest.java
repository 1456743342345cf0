package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.CudaStream;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.runtime.Tuning;
import io.tpkernels.testing.GpuTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * DoRA's column scale through every way {@link LoraLinearCuda#route} sends a forward (each case asserts its way; for
 * the separate shrink the shapes and settings pick each body of the fused step), against the double reference, with
 * and without bias; and without a scale, or with one of all ones, the plain forward bit for bit.
 */
@GpuTest
class LoraColumnScaleCudaTest {

    private static final Device GPU = Device.cuda(0);

    /** Which Hopper kernel the fused step may take: the default, the ping-pong v2, or none (mma.sync). */
    enum Hopper { DEFAULT, PINGPONG, OFF }

    @ParameterizedTest(name = "{0} ({1}, {2}) {3}: T={4} K={5} N={6} R={7} bias={8}")
    @CsvSource({
        "DECODE,          AUTO,     DEFAULT,  BF16, 1,   1024, 200, 16, true",
        "DECODE,          AUTO,     DEFAULT,  F16,  7,   520,  130, 72, false",
        "DECODE,          AUTO,     DEFAULT,  BF16, 16,  256,  64,  8,  true",
        "SHRINK_ON_CHIP,  AUTO,     DEFAULT,  BF16, 100, 256,  260, 16, true",
        "SHRINK_ON_CHIP,  ON_CHIP,  DEFAULT,  F16,  64,  192,  384, 32, false",
        "SHRINK_SEPARATE, AUTO,     DEFAULT,  BF16, 100, 256,  260, 24, true",     // fused step: wgmma v1 on sm_90
        "SHRINK_SEPARATE, SEPARATE, PINGPONG, F16,  130, 512,  260, 8,  false",    // fused step: the ping-pong kernel
        "SHRINK_SEPARATE, AUTO,     OFF,      BF16, 70,  128,  200, 16, true",     // fused step: mma.sync
        "SHRINK_SEPARATE, AUTO,     DEFAULT,  F32,  50,  300,  100, 8,  true",     // fused step: SIMT
        "SHRINK_SEPARATE, AUTO,     DEFAULT,  F32,  5,   512,  128, 4,  false",    // fused step: the F32 decode body
        "STAGED,          AUTO,     DEFAULT,  BF16, 70,  512,  260, 12, true",     // then on chip (sm_90)
        "STAGED,          AUTO,     DEFAULT,  F16,  9,   1000, 100, 3,  false",    // then the decode kernel
        "STAGED,          AUTO,     DEFAULT,  F32,  50,  300,  100, 7,  true",     // then SIMT
    })
    void everyWayMatchesTheReference(LoraLinearCuda.Way way, Tuning.LoraShrink mode, Hopper hopper, DType dtype, int t,
                                     int k, int n, int r, boolean bias) {
        assumeTrue(way != LoraLinearCuda.Way.SHRINK_ON_CHIP || CudaDevice.of(GPU).computeCapability() == 90,
                "the on-chip shrink is a Hopper (sm_90) kernel");
        ExecutionContext ctx = tuned(mode, hopper);
        assertEquals(way, route(ctx, dtype, t, k, n, r));
        LoraLinearCpuTest.check(GPU, dtype, t, k, n, r, 1.5f, bias, true, t * 29L + r, LoraLinearCpuTest.on(ctx));
        LoraLinearCpuTest.assertNoScaleIsOnesIsThePlainForward(ctx, dtype, t, k, n, r, bias);
    }

    /** The queued form, on a stream of its own. */
    @Test
    void theStreamFormMatchesTheReference() {
        try (ExecutionContext ctx = ExecutionContext.create(GPU)) {
            LoraLinearCpuTest.check(GPU, DType.BF16, 40, 256, 200, 16, 1.5f, true, true, 3, LoraLinearCpuTest.on(ctx));
        }
    }

    @Test
    void aColumnScaleOnAnotherDeviceIsRefused() {
        try (Tensor x = Tensor.allocate(GPU, DType.BF16, 2, 8);
             Tensor w = Tensor.allocate(GPU, DType.BF16, 4, 8);
             Tensor a = Tensor.allocate(GPU, DType.BF16, 8, 8);
             Tensor b = Tensor.allocate(GPU, DType.BF16, 4, 8);
             Tensor y = Tensor.allocate(GPU, DType.F32, 2, 4);
             Tensor onCpu = Tensor.allocate(Device.CPU, DType.F32, 4)) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> LoraLinear.forward(ExecutionContext.defaultFor(x.device()), x, w, a, b, 1f, onCpu, null, y));
            assertTrue(e.getMessage().contains("column scale must be [4] F32 on " + GPU), e.getMessage());
        }
    }

    /** The way a forward of this shape takes now (operands uninitialised: routing reads no data). */
    private static LoraLinearCuda.Way route(ExecutionContext ctx, DType dtype, int t, int k, int n, int r) {
        try (Tensor x = Tensor.allocate(GPU, dtype, t, k);
             Tensor w = Tensor.allocate(GPU, dtype, n, k);
             Tensor a = Tensor.allocate(GPU, dtype, r, k);
             Tensor b = Tensor.allocate(GPU, dtype, n, r);
             Tensor y = Tensor.allocate(GPU, DType.F32, t, n)) {
            return LoraLinearCuda.route(x, w, a, b, y, ctx).way();
        }
    }

    /** A context on the GPU's legacy default stream with this shrink mode and Hopper choice. */
    private static ExecutionContext tuned(Tuning.LoraShrink mode, Hopper hopper) {
        Tuning t = Tuning.defaults().withLoraShrink(mode);
        t = switch (hopper) {
            case DEFAULT -> t;
            case PINGPONG -> t.withHopperGemm(Tuning.HopperGemm.PINGPONG);
            case OFF -> t.withHopperGemm(Tuning.HopperGemm.OFF);
        };
        return ExecutionContext.onStream(CudaStream.legacyDefault(CudaDevice.of(GPU)), t);
    }
}
