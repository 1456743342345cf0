package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.CudaStream;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.runtime.Tuning;
import io.tpkernels.testing.GemmReference;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.Poison;
import io.tpkernels.testing.RandomData;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The LM head on cuBLAS: the product for every logits type (F32, BF16) cublasGemmEx takes, against the double reference
 * with −∞ in the padding columns (on the emulator, against its cuBLAS written from the documentation, so the
 * row-major-as-column-major transposition is checked without a GPU); which backend takes a product; the
 * once-per-shape timing behind {@code -Dtpk.lmhead.backend=auto}, with stand-ins whose cost is a host sleep
 * between the events (30 ms against nothing: far apart, so the answer does not hang on timer noise); and cuBLAS's
 * argument checks, which come before any cuBLAS call.
 */
@GpuTest
class LmHeadCublasCudaTest {

    private static final Device GPU = Device.cuda(0);

    @ParameterizedTest(name = "{0} -> {1}: T={2} H={3} valid={4} S={5}")
    @CsvSource({
        "BF16, F32, 96, 512, 300, 320",
        "BF16, BF16, 33, 200, 70, 128",
        "F16, F32, 1, 136, 64, 64",
        "F16, F32, 17, 64, 40, 64",
        "F32, F32, 20, 100, 50, 72",
    })
    void cublasMatchesTheReferenceAndTheKernelPadsWithMinusInfinity(DType in, DType out, int t, int h, int valid,
                                                                      int s) {
        org.junit.jupiter.api.Assumptions.assumeTrue(CublasGemm.isAvailable(), "cuBLAS not found");
        try (Tensor xh = Tensor.ofFloats(in, RandomData.floats(5, t * h), t, h);
             Tensor wh = Tensor.ofFloats(in, RandomData.floats(6, valid * h), valid, h);
             Tensor x = xh.copyTo(GPU);
             Tensor w = wh.copyTo(GPU);
             Tensor logits = Poison.poison(Tensor.allocate(GPU, out, t, s))) {
            ExecutionContext ctx = ExecutionContext.onStream(CudaStream.legacyDefault(logits.cudaDevice()), Tuning.defaults());
            LmHeadCuda.runCublas(x, w, logits, ctx);
            ctx.synchronize();
            float[] got = logits.toFloatArray();
            GemmReference.assertClose(GemmReference.multiplyNT(xh.toFloatArray(), wh.toFloatArray(), t, valid, h), got,
                    s, out != DType.F32, "cuBLAS " + in + " -> " + out);
            for (int i = 0; i < t; i++) {
                for (int j = valid; j < s; j++) {
                    assertEquals(Float.NEGATIVE_INFINITY, got[i * s + j], "padding column " + j + " of token " + i);
                }
            }
        }
    }

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
        ExecutionContext ctx = ExecutionContext.onStream(CudaStream.legacyDefault(CudaDevice.of(GPU)), Tuning.defaults());
        MeasuredChoice<String> choice = new MeasuredChoice<>();
        AtomicInteger own = new AtomicInteger();
        AtomicInteger alternative = new AtomicInteger();

        assertTrue(choice.useAlternative("slow own kernel", ctx, costing(30, own), costing(0, alternative)));
        int timed = MeasuredChoice.WARMUPS + MeasuredChoice.RUNS;
        assertEquals(timed, own.get());
        assertEquals(timed, alternative.get());

        assertTrue(choice.useAlternative("slow own kernel", ctx, costing(30, own), costing(0, alternative)));
        assertEquals(timed, own.get(), "a decided shape runs nothing");
        assertEquals(timed, alternative.get());

        assertFalse(choice.useAlternative("slow alternative", ctx, costing(0, own), costing(30, alternative)));
        assertEquals(2, choice.decided());
    }

    /** cuBLAS where asked and where cublasGemmEx takes the dtypes; the hand-written kernel otherwise. */
    @Test
    void theLmHeadTakesCublasOnlyForTheTypeCombinationsItTakes() {
        org.junit.jupiter.api.Assumptions.assumeTrue(CublasGemm.isAvailable(), "cuBLAS not found");
        ExecutionContext ctx = ExecutionContext.onStream(CudaStream.legacyDefault(CudaDevice.of(GPU)), Tuning.defaults());
        try (Tensor x = Tensor.allocate(GPU, DType.F16, 4, 64);
             Tensor w = Tensor.allocate(GPU, DType.F16, 10, 64);
             Tensor f32Out = Tensor.allocate(GPU, DType.F32, 4, 16);
             Tensor bf16Out = Tensor.allocate(GPU, DType.BF16, 4, 16)) {
            assertTrue(LmHeadCuda.usesCublas(Tuning.LmHeadBackend.CUBLAS, x, w, f32Out, ctx));
            assertFalse(LmHeadCuda.usesCublas(Tuning.LmHeadBackend.CUBLAS, x, w, bf16Out, ctx));
            assertFalse(LmHeadCuda.usesCublas(Tuning.LmHeadBackend.KERNEL, x, w, f32Out, ctx));
            assertFalse(LmHeadCuda.usesCublas(Tuning.LmHeadBackend.AUTO, x, w, bf16Out, ctx));
        }
    }

    @Test
    void cublasArgumentsAreCheckedBeforeAnythingRuns() {
        ExecutionContext ctx = ExecutionContext.onStream(CudaStream.legacyDefault(CudaDevice.of(GPU)), Tuning.defaults());
        try (Tensor x = Tensor.allocate(GPU, DType.BF16, 4, 64);
             Tensor w = Tensor.allocate(GPU, DType.BF16, 10, 64);
             Tensor shortOut = Tensor.allocate(GPU, DType.F32, 3, 10);
             Tensor narrowOut = Tensor.allocate(GPU, DType.F32, 4, 9);
             Tensor f16Out = Tensor.allocate(GPU, DType.F16, 4, 10);
             Tensor hostOut = Tensor.allocate(Device.CPU, DType.F32, 4, 10)) {
            var rows = assertThrows(IllegalArgumentException.class, () -> CublasGemm.multiplyNT(ctx, x, w, shortOut));
            assertTrue(rows.getMessage().contains("out [3, 10] F32"), rows.getMessage());
            var cols = assertThrows(IllegalArgumentException.class, () -> CublasGemm.multiplyNT(ctx, x, w, narrowOut));
            assertTrue(cols.getMessage().contains("out [4, 9] F32"), cols.getMessage());
            var type = assertThrows(IllegalArgumentException.class, () -> CublasGemm.multiplyNT(ctx, x, w, f16Out));
            assertTrue(type.getMessage().contains("out [4, 10] F16"), type.getMessage());
            var device = assertThrows(IllegalArgumentException.class, () -> CublasGemm.multiplyNT(ctx, x, w, hostOut));
            assertTrue(device.getMessage().contains("on cpu"), device.getMessage());
        }
    }
}
