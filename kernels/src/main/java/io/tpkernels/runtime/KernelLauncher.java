package io.tpkernels.runtime;

/**
 * Launches one kernel of a packaged module (a {@code .cu} file of {@code tpkernels-cuda-src}) through some binding
 * of the CUDA driver. An operation decides which kernel, the grid and the parameters; the launcher only carries
 * them to the driver. {@link #FFM} is this library's own binding; {@code tpkernels-jcuda} has one through JCuda,
 * so both run the same code with the same parameters and can be compared bit for bit.
 */
@FunctionalInterface
public interface KernelLauncher {

    /** Through this library's FFM binding: the kernel from the stream's device's {@link ModuleCache}. */
    KernelLauncher FFM = (stream, module, kernel, blocks, threads, sharedBytes, args) ->
            stream.device().modules().kernel(module, kernel).launch(stream, blocks, threads, sharedBytes, args);

    /**
     * Queues kernel {@code kernel} of module {@code module} on {@code stream} as a 1-D grid of {@code blocks} blocks
     * of {@code threads} threads, with {@code sharedBytes} of dynamic shared memory; {@code args} holds exactly the
     * kernel's parameters, in order.
     *
     * @param stream the stream to queue on
     * @param module the kernel module, the {@code .cu} file's name without extension
     * @param kernel the kernel's name
     * @param blocks the grid size
     * @param threads threads per block
     * @param sharedBytes dynamic shared memory per block
     * @param args the parameters
     */
    void launch(CudaStream stream, String module, String kernel, int blocks, int threads, int sharedBytes,
                KernelArgs args);
}
