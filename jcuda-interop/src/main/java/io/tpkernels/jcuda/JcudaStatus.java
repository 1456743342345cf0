package io.tpkernels.jcuda;

import io.tpkernels.ffm.cuda.CudaException;
import jcuda.driver.CUresult;

/**
 * JCuda's return codes as tpkernels' exceptions. JCuda returns the driver's {@code CUresult} unchanged (unless
 * someone switched on its process-wide exceptions, which this module leaves alone), so a failed JCuda call becomes
 * the same {@link CudaException}, with the symbolic name, as the same call through the FFM binding.
 */
final class JcudaStatus {
    private JcudaStatus() {
    }

    /** Throws a {@link CudaException} naming {@code call} unless {@code status} is {@code CUDA_SUCCESS}. */
    static void check(int status, String call) {
        if (status != CUresult.CUDA_SUCCESS) {
            throw failure(status, call);
        }
    }

    /** The exception for a failed call, for hot paths that build the call's description only on failure. */
    static CudaException failure(int status, String call) {
        return new CudaException(status, "JCuda " + call);
    }
}
