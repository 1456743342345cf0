package io.tpkernels.runtime;

import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.ffm.cuda.CudaDriverApi;
import java.lang.foreign.MemorySegment;

/** One kernel ({@code CUfunction}) of a loaded module, and its launch. */
public final class CudaKernel {
    private final CudaDevice device;
    private final String name;
    private final MemorySegment function;
    private volatile int allowedDynamicShared = 48 * 1024;

    CudaKernel(CudaDevice device, String name, MemorySegment function) {
        this.device = device;
        this.name = name;
        this.function = function;
    }

    /**
     * The kernel's name in its module.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * The device whose context the kernel's module is loaded in.
     *
     * @return the device
     */
    public CudaDevice device() {
        return device;
    }

    /**
     * Registers per thread, as the driver compiled it for this device.
     *
     * @return the register count
     */
    public int registers() {
        device.makeCurrent();
        return CudaDriver.funcGetAttribute(CudaDriverApi.CU_FUNC_ATTRIBUTE_NUM_REGS, function);
    }

    /**
     * Local memory per thread in bytes (non-zero means spills or a stack).
     *
     * @return the bytes
     */
    public int localBytes() {
        device.makeCurrent();
        return CudaDriver.funcGetAttribute(CudaDriverApi.CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES, function);
    }

    /**
     * Allows launches with up to {@code bytes} of dynamic shared memory (needed above 48 KiB).
     *
     * @param bytes the most dynamic shared memory a launch will ask for
     * @throws IllegalArgumentException when {@code bytes} exceeds what a block may opt in to on this device
     */
    public void allowDynamicSharedBytes(int bytes) {
        if (bytes <= allowedDynamicShared) {
            return; // already allowed: launches pay no driver call for it
        }
        if (bytes > device.maxSharedBytesPerBlock()) {
            throw new IllegalArgumentException(name + ": " + bytes + " bytes of shared memory exceed the "
                    + device.maxSharedBytesPerBlock() + " a block may use on " + device);
        }
        device.makeCurrent();
        CudaDriver.funcSetAttribute(function, CudaDriverApi.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
        allowedDynamicShared = bytes;
    }

    /**
     * Queues a 1-D grid of {@code blocks} blocks of {@code threads} threads on {@code context}'s stream.
     *
     * @param context the context whose stream the launch is queued on
     * @param blocks the grid size
     * @param threads threads per block
     * @param sharedBytes dynamic shared memory per block, at most what {@link #allowDynamicSharedBytes} allowed
     * @param args the kernel's parameters, in order
     * @throws IllegalStateException on the CPU context
     * @throws IllegalArgumentException when the context's device is not the kernel's
     * @throws io.tpkernels.ffm.cuda.CudaException when the driver refuses the launch, or reports an earlier kernel's
     *     fault (the message names the kernels queued since the stream's last wait)
     */
    public void launch(ExecutionContext context, int blocks, int threads, int sharedBytes, KernelArgs args) {
        launch(context.stream(), blocks, 1, 1, threads, 1, 1, sharedBytes, args);
    }

    /**
     * Queues a 3-D grid on {@code context}'s stream; {@code args} must hold exactly the kernel's parameters.
     *
     * @param context the context whose stream the launch is queued on
     * @param gridX blocks along x
     * @param gridY blocks along y
     * @param gridZ blocks along z
     * @param blockX threads per block along x
     * @param blockY threads per block along y
     * @param blockZ threads per block along z
     * @param sharedBytes dynamic shared memory per block, at most what {@link #allowDynamicSharedBytes} allowed
     * @param args the kernel's parameters, in order
     * @throws IllegalStateException on the CPU context
     * @throws IllegalArgumentException when the context's device is not the kernel's
     * @throws io.tpkernels.ffm.cuda.CudaException when the driver refuses the launch, or reports an earlier kernel's
     *     fault
     */
    public void launch(ExecutionContext context, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                       int sharedBytes, KernelArgs args) {
        launch(context.stream(), gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, args);
    }

    /**
     * Launches a 1-D grid of {@code blocks} blocks of {@code threads} threads on {@code stream}.
     *
     * @param stream the stream to queue on, of the kernel's device
     * @param blocks the grid size
     * @param threads threads per block
     * @param sharedBytes dynamic shared memory per block
     * @param args the kernel's parameters, in order
     * @throws IllegalArgumentException when the stream is on another device
     * @throws io.tpkernels.ffm.cuda.CudaException when the driver refuses the launch, or reports an earlier kernel's
     *     fault
     */
    public void launch(CudaStream stream, int blocks, int threads, int sharedBytes, KernelArgs args) {
        launch(stream, blocks, 1, 1, threads, 1, 1, sharedBytes, args);
    }

    /**
     * Launches a 3-D grid on {@code stream}; {@code args} must hold exactly the kernel's parameters.
     *
     * @param stream the stream to queue on, of the kernel's device
     * @param gridX blocks along x
     * @param gridY blocks along y
     * @param gridZ blocks along z
     * @param blockX threads per block along x
     * @param blockY threads per block along y
     * @param blockZ threads per block along z
     * @param sharedBytes dynamic shared memory per block
     * @param args the kernel's parameters, in order
     * @throws IllegalArgumentException when the stream is on another device
     * @throws io.tpkernels.ffm.cuda.CudaException when the driver refuses the launch, or reports an earlier kernel's
     *     fault
     */
    public void launch(CudaStream stream, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                       int sharedBytes, KernelArgs args) {
        if (stream.device() != device) {
            throw new IllegalArgumentException(name + " lives on " + device + " but the stream is on " + stream.device());
        }
        stream.launch(name, function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, args);
    }
}
