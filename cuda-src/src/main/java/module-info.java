/**
 * The project's CUDA kernels as resources: {@code tpkernels-cu/*.cu} and their headers (the sources, for NVRTC) and
 * {@code tpkernels-ptx/*.ptx} (compiled by {@code nvcc} at build time, listed in {@code tpkernels-ptx/index.txt}).
 * The resource folders are not packages, so they are readable from any module. Package
 * {@code io.tpkernels.cuda.sources} holds what the launches must agree on with the kernels, generated from the
 * sources at build time: {@code KernelConstants} and {@code KernelNames}.
 */
module io.tpkernels.cuda.sources {
    exports io.tpkernels.cuda.sources;
}
