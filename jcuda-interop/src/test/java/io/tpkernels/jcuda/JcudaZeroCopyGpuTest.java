package io.tpkernels.jcuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.RandomData;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.Test;

/** Device memory passed between JCuda and tensors without copies, both ways, on the one shared context. */
@GpuTest
class JcudaZeroCopyGpuTest {

    private final CudaDevice cuda = CudaDevice.of(0);
    private final JcudaDevice jcuda = JcudaDevice.of(cuda);

    private float[] readWithJcuda(CUdeviceptr from, int n) {
        float[] out = new float[n];
        jcuda.makeCurrent();
        JcudaStatus.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(out), from, (long) n * Sizeof.FLOAT), "cuMemcpyDtoH");
        return out;
    }

    private void writeWithJcuda(CUdeviceptr to, float[] values) {
        jcuda.makeCurrent();
        JcudaStatus.check(JCudaDriver.cuMemcpyHtoD(to, Pointer.to(values), (long) values.length * Sizeof.FLOAT),
                "cuMemcpyHtoD");
    }

    @Test
    void jcudaMemoryIsATensorThatFreesNothing() {
        float[] values = RandomData.floats(21, 4096);
        float[] later = RandomData.floats(22, 4096);
        try (JcudaMemory memory = JcudaMemory.allocate(4096L * 4)) {
            writeWithJcuda(memory.pointer(), values);
            try (Tensor t = JcudaPointers.wrap(memory.pointer(), memory.bytes(), cuda, DType.F32, 64, 64)) {
                assertEquals(JcudaPointers.address(memory.pointer()), t.devicePointer());
                assertArrayEquals(values, t.toFloatArray());
                try (Tensor src = Tensor.ofFloats(DType.F32, later, 64, 64)) {
                    t.copyFrom(src);
                }
            }
            // The tensor is closed; JCuda's memory is not, and holds what the tensor wrote. Closing `memory`
            // then frees it once, successfully.
            assertArrayEquals(later, readWithJcuda(memory.pointer(), 4096));
        }
    }

    @Test
    void aTensorShapeLargerThanTheJcudaMemoryIsRejected() {
        try (JcudaMemory memory = JcudaMemory.allocate(100)) {
            assertThrows(IllegalArgumentException.class,
                    () -> JcudaPointers.wrap(memory.pointer(), memory.bytes(), cuda, DType.F32, 26));
        }
    }

    @Test
    void aTensorIsACudeviceptrWithoutACopy() {
        float[] values = RandomData.floats(23, 10 * 8);
        float[] rows = RandomData.floats(24, 2 * 8);
        try (Tensor t = Tensor.ofFloats(DType.F32, values, 10, 8).copyTo(cuda.device())) {
            assertArrayEquals(values, readWithJcuda(JcudaPointers.of(t), 80));
            // A view's pointer is the view's first element: rows 3 and 4.
            CUdeviceptr view = JcudaPointers.of(t.rows(3, 5));
            assertEquals(t.devicePointer() + 3 * 8 * 4, JcudaPointers.address(view));
            writeWithJcuda(view, rows);
            float[] expected = values.clone();
            System.arraycopy(rows, 0, expected, 3 * 8, rows.length);
            assertArrayEquals(expected, t.toFloatArray());
        }
    }

    /** Runs {@code body} on a new thread, whose current context nobody has set yet. */
    private static void onNewThread(Runnable body) throws Exception {
        try (ExecutorService thread = Executors.newSingleThreadExecutor()) {
            thread.submit(body).get();
        }
    }

    @Test
    void bothSidesSeeOnePrimaryContextOnAFreshThread() throws Exception {
        onNewThread(() -> {
            cuda.makeCurrent();
            CUcontext current = new CUcontext();
            JcudaStatus.check(JCudaDriver.cuCtxGetCurrent(current), "cuCtxGetCurrent");
            assertEquals(jcuda.context(), current, "tpkernels' context as JCuda sees it");
        });
        onNewThread(() -> {
            jcuda.makeCurrent();
            assertEquals(cuda.context().address(), CudaDriver.ctxGetCurrent().address(),
                    "JCuda's context as tpkernels sees it");
        });
    }

    @Test
    void makeCurrentRestoresTheContextAfterJcudaCodeChangedIt() throws Exception {
        float[] values = RandomData.floats(25, 32);
        onNewThread(() -> {
            try (Tensor t = Tensor.ofFloats(DType.F32, values, 32).copyTo(cuda.device())) {
                // User code unbinds the thread's context behind tpkernels' back ...
                JcudaStatus.check(JCudaDriver.cuCtxSetCurrent(new CUcontext()), "cuCtxSetCurrent(null)");
                // ... and hands it back as the interop documents, after which tpkernels' calls work again.
                jcuda.makeCurrent();
                assertArrayEquals(values, t.toFloatArray());
            }
        });
    }
}
