/**
 * The project's CUDA kernels as resources: {@code tpkernels-cu/*.cu} (the sources, for NVRTC) and
 * {@code tpkernels-ptx/*.ptx} (compiled by {@code nvcc} at build time, listed in {@code tpkernels-ptx/index.txt}).
 * The resource folders are not packages, so they are readable from any module.
 */
module io.tpkernels.cuda.sources {
}
