/**
 * Devices, dtypes, tensors and their memory lifetimes, CUDA contexts, streams, events and the PTX module
 * cache, and the kernel operations, each with a CPU implementation (the reference) and a CUDA one, the
 * fine-tuning pieces among them: the backward operations, the vocab-parallel loss (fused with the LM head or not),
 * gradient clipping and the optimizer.
 */
module io.tpkernels.kernels {
    requires transitive io.tpkernels.ffm;
    requires io.tpkernels.cuda.sources;
    // The CPU GEMM's fast path; without --add-modules jdk.incubator.vector a scalar path runs.
    requires static jdk.incubator.vector;

    exports io.tpkernels.runtime;
    exports io.tpkernels.ops;
    exports io.tpkernels.shard;
    exports io.tpkernels.collective;
    exports io.tpkernels.train;
}
