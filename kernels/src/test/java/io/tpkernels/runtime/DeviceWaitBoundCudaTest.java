package io.tpkernels.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tpkernels.ffm.cuda.CudaException;
import io.tpkernels.ops.LoraLinear;
import io.tpkernels.testing.GpuTest;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A kernel whose device-side wait can never end traps once the wait has lasted {@code KernelConstants.WAIT_BOUND_MS}
 * (on the emulator, whose clock jumps while a block cannot progress, at once), and the error names the kernels queued
 * since the stream's last wait. The kernel is lora_decode's, made to wait for a flag nobody publishes: its arrival
 * counter in the stream's scratch, which every launch leaves at 0, is set to garbage, so no block counts itself the
 * last and publishes {@code xa}. Emulator only: on a GPU the trap would leave the context unusable for the tests
 * after it.
 */
@GpuTest
class DeviceWaitBoundCudaTest {

    private static final Device GPU = Device.cuda(0);
    private static final String DECODE = "tpk_lora_decode_bf16_bf16";

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a hang is native
    void aWaitThatCannotEndFailsTheLaunchNamingTheKernelsQueuedSinceTheLastWait() {
        assumeTrue(CudaDevice.of(GPU).isEmulator(), "a trap leaves a GPU's context unusable for later tests");
        int t = 1, k = 256, n = 64, r = 8;
        try (ExecutionContext ctx = ExecutionContext.create(GPU);
             Tensor x = Tensor.zeros(ctx, DType.BF16, t, k);
             Tensor w = Tensor.zeros(ctx, DType.BF16, n, k);
             Tensor a = Tensor.zeros(ctx, DType.BF16, r, k);
             Tensor b = Tensor.zeros(ctx, DType.BF16, n, r);
             Tensor y = Tensor.zeros(ctx, DType.BF16, t, n)) {
            LoraLinear.forward(ctx, x, w, a, b, 1f, null, y);
            ctx.synchronize(); // done: not named below
            LoraLinear.forward(ctx, x, w, a, b, 1f, null, y);
            try (Tensor arrived = Tensor.view(ctx.stream().scratch(), 0, DType.I32, 1)) {
                arrived.fillBytes((byte) 0x55);
            }
            CudaException e = assertThrows(CudaException.class, () -> LoraLinear.forward(ctx, x, w, a, b, 1f, null, y));
            assertEquals(719, e.status(), e.getMessage()); // CUDA_ERROR_LAUNCH_FAILED
            assertTrue(e.getMessage().startsWith("launch of " + DECODE + ": "), e.getMessage());
            assertTrue(e.getMessage().endsWith(
                    "a kernel trapped or faulted; kernels queued since the last wait: [" + DECODE + ", " + DECODE + "]"),
                    e.getMessage());
        }
    }
}
