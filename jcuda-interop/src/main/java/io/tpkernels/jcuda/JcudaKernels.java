package io.tpkernels.jcuda;

import io.tpkernels.ops.EmbeddingLookup;
import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.CudaStream;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.KernelLauncher;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.runtime.Tuning;

/**
 * The project's kernels launched through JCuda instead of the FFM binding: the same packaged PTX, chosen the same
 * way, with the same checks, grid and parameters, so results match the FFM launch bit for bit. Only the launch
 * differs: {@code cuModuleLoadData}, {@code cuModuleGetFunction} and {@code cuLaunchKernel} are JCuda's.
 */
public final class JcudaKernels {
    private JcudaKernels() {
    }

    /**
     * The launcher through JCuda, for operations that take a {@link KernelLauncher}; it launches on the legacy
     * default stream.
     *
     * @return the launcher, shared
     */
    public static KernelLauncher launcher() {
        return JcudaLauncher.INSTANCE;
    }

    /**
     * An execution context whose kernels launch through JCuda: on {@code device}'s legacy default stream (the one
     * stream JCuda and tpkernels share), tuned by the {@code tpk.*} system properties now.
     *
     * @param device the device the context runs on
     * @return a context that owns nothing (closing it does not destroy the legacy stream)
     * @throws IllegalArgumentException when a {@code tpk.*} property has a bad value
     */
    public static ExecutionContext context(CudaDevice device) {
        return ExecutionContext.onStream(CudaStream.legacyDefault(device), Tuning.fromSystemProperties())
                .withLauncher(JcudaLauncher.INSTANCE);
    }

    /**
     * The masked embedding lookup of {@link EmbeddingLookup#masked(ExecutionContext, Tensor, Tensor, long, long, long,
     * Tensor)} into {@code out}, its kernel ({@code embedding.cu}) launched through JCuda on the legacy default
     * stream; returns when done. Tensors from JCuda memory come from {@link JcudaPointers#wrap}.
     *
     * @param ids the token ids, I32 or I64 {@code [T]}, on the weight's device
     * @param weight the shard's real rows, {@code [valid, H]} F32, F16 or BF16
     * @param start the shard's first global id
     * @param valid the shard's real rows
     * @param vocabSize {@code V}
     * @param out {@code [T, H]} of the weight's dtype and device, overwritten
     * @throws IllegalArgumentException for bad shapes, dtypes or devices, host tensors, or an id outside
     *                                  {@code [0, vocabSize)} (naming the first position), as the FFM launch does
     * @throws IllegalStateException    when JCuda's natives or the CUDA driver cannot be loaded
     */
    public static void embeddingLookup(Tensor ids, Tensor weight, long start, long valid, long vocabSize, Tensor out) {
        // Host tensors: the checks run (bad shapes are named first), then the launcher refuses the host.
        ExecutionContext ctx = weight.device().isCuda() ? context(weight.cudaDevice())
                : ExecutionContext.cpu().withLauncher(JcudaLauncher.INSTANCE);
        EmbeddingLookup.masked(ctx, ids, weight, start, valid, vocabSize, out);
        ctx.synchronize();
    }
}
