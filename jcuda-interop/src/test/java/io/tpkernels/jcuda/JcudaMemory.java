package io.tpkernels.jcuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * Device memory on device 0 as a JCuda user owns it: {@code cuMemAlloc} and {@code cuMemFree} through JCuda.
 * {@link #close()} asserts that the free succeeds, which it would not (an invalid value) had anything freed the
 * memory before.
 */
final class JcudaMemory implements AutoCloseable {
    private final CUdeviceptr pointer = new CUdeviceptr();
    private final long bytes;

    private JcudaMemory(long bytes) {
        this.bytes = bytes;
        JcudaDevice.of(0).makeCurrent();
        JcudaStatus.check(JCudaDriver.cuMemAlloc(pointer, bytes), "cuMemAlloc(" + bytes + ")");
    }

    static JcudaMemory allocate(long bytes) {
        return new JcudaMemory(bytes);
    }

    CUdeviceptr pointer() {
        return pointer;
    }

    long bytes() {
        return bytes;
    }

    @Override
    public void close() {
        JcudaDevice.of(0).makeCurrent();
        assertEquals(CUresult.CUDA_SUCCESS, JCudaDriver.cuMemFree(pointer), "JCuda's free of its own memory");
    }
}
