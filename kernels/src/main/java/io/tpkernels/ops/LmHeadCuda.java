package io.tpkernels.ops;

import io.tpkernels.gpu.CudaStream;
import io.tpkernels.tensor.Tensor;

/** {@link LmHead} on a GPU: the shared GEMM ({@link GemmCuda}) with −∞ padding columns, or cuBLAS on request. */
final class LmHeadCuda {
    /**
     * Whether the LM head runs on cuBLAS ({@code -Dtpk.lmhead.backend=cublas}) instead of the hand-written
     * kernels. Off by default: the hand-written kernels stay the default wherever they are within 10% of
     * cuBLAS, and no shape has been measured yet to say where they are not.
     */
    static final boolean USE_CUBLAS = "cublas".equals(System.getProperty("tpk.lmhead.backend"));

    private LmHeadCuda() {
    }

    static void run(Tensor x, Tensor w, Tensor out, CudaStream stream) {
        if (USE_CUBLAS && CublasGemm.isAvailable()) {
            runCublas(x, w, out, stream);
        } else {
            GemmCuda.launch(x, w, null, null, null, w.dim(0), 1f, out, stream);
        }
    }

    /** cuBLAS for the valid columns, then the padding kernel for the −∞ columns. */
    static void runCublas(Tensor x, Tensor w, Tensor out, CudaStream stream) {
        CublasGemm.multiplyNT(x, w, out, stream);
        GemmCuda.padColumns(out, w.dim(0), stream);
    }
}
