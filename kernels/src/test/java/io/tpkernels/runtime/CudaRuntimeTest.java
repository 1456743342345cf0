package io.tpkernels.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tpkernels.cuda.sources.KernelNames;
import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.ffm.cuda.CudaException;
import io.tpkernels.ffm.nvrtc.Nvrtc;
import io.tpkernels.ops.Cast;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.RandomData;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The CUDA runtime layer on a real device: memory, copies, errors, events, streams and the module cache. */
@GpuTest
class CudaRuntimeTest {

    private final CudaDevice device = CudaDevice.of(0);

    @Test
    void deviceReportsItsProperties() {
        assertTrue(device.computeCapability() >= 80, device + ": the kernels need sm_80 or newer");
        assertTrue(device.multiprocessors() > 0 && device.totalMemory() > 0);
        assertFalse(device.name().isBlank());
        assertTrue(CudaDriver.driverVersion() >= 12000);
        long[] info = device.memoryInfo();
        assertTrue(info[0] > 0 && info[0] <= info[1]);
    }

    @Test
    void hostDeviceHostRoundTripIsExact() {
        float[] values = RandomData.floats(3, 10_001);
        try (Tensor host = Tensor.ofFloats(DType.F32, values, 10_001);
             Tensor gpu = host.copyTo(device.device());
             Tensor gpu2 = gpu.copyTo(device.device())) {
            assertArrayEquals(values, gpu2.toFloatArray());
            assertArrayEquals(new float[] {values[5], values[6]}, gpu2.rows(5, 7).toFloatArray());
        }
    }

    @Test
    void deviceMemoryUseAfterCloseIsAnIllegalState() {
        Tensor t = Tensor.allocate(device.device(), DType.F32, 16);
        t.close();
        t.close();
        var e = assertThrows(IllegalStateException.class, t::devicePointer);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void driverErrorsCarryTheSymbolicNameAndTheCall() {
        var e = assertThrows(CudaException.class, () -> device.allocate(1L << 52));
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.statusName());
        assertTrue(e.getMessage().contains("cuMemAlloc_v2(bytes=" + (1L << 52) + ")"), e.getMessage());
        assertEquals("CUDA_ERROR_INVALID_VALUE", CudaDriver.errorName(1));
    }

    @Test
    void eventsTimeWorkOnAStream() {
        try (CudaStream stream = CudaStream.create(device);
             CudaEvent start = CudaEvent.create(device);
             CudaEvent end = CudaEvent.create(device);
             Tensor src = Tensor.ofFloats(DType.F32, RandomData.floats(1, 1 << 20), 1 << 20);
             Tensor gpuSrc = src.copyTo(device.device());
             Tensor gpuDst = Tensor.allocate(device.device(), DType.BF16, 1 << 20)) {
            start.record(stream);
            Cast.into(ExecutionContext.onStream(stream, Tuning.defaults()), gpuSrc, gpuDst);
            end.record(stream);
            end.synchronize();
            float ms = end.millisSince(start);
            assertTrue(ms > 0 && ms < 1000, ms + " ms");
            stream.synchronize();
        }
    }

    @Test
    void eachModuleLoadsOncePerContextUnderConcurrency() throws Exception {
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<CudaKernel>> futures = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                futures.add(pool.submit(() -> {
                    go.await();
                    return device.modules().kernel(KernelNames.MODULE_CAST, KernelNames.TPK_CAST_F32_TO_BF16);
                }));
            }
            go.countDown();
            CudaKernel first = futures.get(0).get();
            for (Future<CudaKernel> f : futures) {
                assertTrue(f.get() == first, "one CudaKernel for all threads");
            }
        } finally {
            pool.shutdownNow();
        }
        device.modules().kernel(KernelNames.MODULE_CAST, KernelNames.TPK_CAST_BF16_TO_F32);
        assertEquals(1, device.modules().loadCount(KernelNames.MODULE_CAST), "the cast module was loaded exactly once");
        CudaKernel k = device.modules().kernel(KernelNames.MODULE_CAST, KernelNames.TPK_CAST_F32_TO_BF16);
        assertTrue(k.registers() > 0);
        assertEquals(0, k.localBytes(), "no spills");
    }

    @Test
    void theNvrtcPathCompilesAndRunsTheSameKernel() {
        assumeTrue(Nvrtc.isAvailable(), () -> "NVRTC not found: " + Nvrtc.library().reason().orElse(""));
        ModuleCache.Loaded nvrtc = device.modules().loadUncached(KernelNames.MODULE_CAST, Tuning.PtxSource.NVRTC);
        assertTrue(nvrtc.source().nvrtc(), "compiled by NVRTC: " + nvrtc.source());
        CudaKernel kernel = device.modules().kernelOf(nvrtc, KernelNames.TPK_CAST_F32_TO_BF16);
        float[] values = RandomData.floats(11, 4099);
        try (Tensor src = Tensor.ofFloats(DType.F32, values, values.length);
             Tensor gpuSrc = src.copyTo(device.device());
             Tensor gpuDst = Tensor.allocate(device.device(), DType.BF16, values.length);
             Tensor expected = Cast.to(ExecutionContext.defaultFor(src.device()), src, DType.BF16)) {
            gpuDst.fillBytes((byte) 0xFF);
            CudaStream stream = CudaStream.legacyDefault(device);
            kernel.launch(stream, 8, 256, 0,
                    KernelArgs.begin().ptr(gpuDst.devicePointer()).ptr(gpuSrc.devicePointer()).i64(values.length));
            stream.synchronize();
            assertArrayEquals(expected.toFloatArray(), gpuDst.toFloatArray());
        } finally {
            device.makeCurrent();
            CudaDriver.moduleUnload(nvrtc.module());
        }
    }
}
