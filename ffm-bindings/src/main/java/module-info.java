/**
 * Hand-declared FFM downcalls to the CUDA driver and NVRTC, and the discovery of CUDA's native
 * libraries (driver, NVRTC, cuBLAS, NCCL). Every binding is described by a {@link io.tpkernels.ffm.CFunction}
 * in C terms, so a test can compile the declarations against the real headers.
 */
module io.tpkernels.ffm {
    exports io.tpkernels.ffm;
    exports io.tpkernels.ffm.cuda;
    exports io.tpkernels.ffm.nvrtc;
    exports io.tpkernels.ffm.cublas;
    exports io.tpkernels.ffm.nccl;
}
