package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.gpu.CudaDevice;
import io.tpkernels.gpu.CudaStream;
import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Device;
import io.tpkernels.tensor.Tensor;
import io.tpkernels.testing.GpuTest;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The once-per-shape timing behind {@code -Dtpk.lmhead.backend=auto}, with stand-ins whose cost is a host sleep
 * between the events (30 ms against nothing: far apart, so the answer does not hang on timer noise), and cuBLAS's
 * argument checks, which come before any cuBLAS call.
 */
@GpuTest
class MeasuredChoiceCudaTest {

    private static final Device GPU = Device.cuda(0);

    private static Runnable costing(int millis, AtomicInteger calls) {
        return () -> {
            calls.incrementAndGet();
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
    }

    @Test
    void aShapeIsTimedOnceAndTheFasterSideKeptOnlyBeyondTheMargin() {
        CudaStream stream = CudaStream.legacyDefault(CudaDevice.of(GPU));
        MeasuredChoice<String> choice = new MeasuredChoice<>();
        AtomicInteger own = new AtomicInteger();
        AtomicInteger alternative = new AtomicInteger();

        assertTrue(choice.useAlternative("slow own kernel", stream, costing(30, own), costing(0, alternative)));
        int timed = MeasuredChoice.WARMUPS + MeasuredChoice.RUNS;
        assertEquals(timed, own.get());
        assertEquals(timed, alternative.get());

        assertTrue(choice.useAlternative("slow own kernel", stream, costing(30, own), costing(0, alternative)));
        assertEquals(timed, own.get(), "a decided shape runs nothing");
        assertEquals(timed, alternative.get());

        assertFalse(choice.useAlternative("slow alternative", stream, costing(0, own), costing(30, alternative)));
        assertEquals(2, choice.decided());
    }

    @Test
    void cublasArgumentsAreCheckedBeforeAnythingRuns() {
        CudaStream stream = CudaStream.legacyDefault(CudaDevice.of(GPU));
        try (Tensor x = Tensor.allocate(GPU, DType.BF16, 4, 64);
             Tensor w = Tensor.allocate(GPU, DType.BF16, 10, 64);
             Tensor shortOut = Tensor.allocate(GPU, DType.F32, 3, 10);
             Tensor narrowOut = Tensor.allocate(GPU, DType.F32, 4, 9);
             Tensor f16Out = Tensor.allocate(GPU, DType.F16, 4, 10);
             Tensor hostOut = Tensor.allocate(Device.CPU, DType.F32, 4, 10)) {
            var rows = assertThrows(IllegalArgumentException.class, () -> CublasGemm.multiplyNT(x, w, shortOut, stream));
            assertTrue(rows.getMessage().contains("out [3, 10] F32"), rows.getMessage());
            var cols = assertThrows(IllegalArgumentException.class, () -> CublasGemm.multiplyNT(x, w, narrowOut, stream));
            assertTrue(cols.getMessage().contains("out [4, 9] F32"), cols.getMessage());
            var type = assertThrows(IllegalArgumentException.class, () -> CublasGemm.multiplyNT(x, w, f16Out, stream));
            assertTrue(type.getMessage().contains("out [4, 10] F16"), type.getMessage());
            var device = assertThrows(IllegalArgumentException.class, () -> CublasGemm.multiplyNT(x, w, hostOut, stream));
            assertTrue(device.getMessage().contains("on cpu"), device.getMessage());
        }
    }
}
