package io.tpkernels.jcuda;

import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.DeviceBuffer;
import io.tpkernels.runtime.Tensor;
import java.util.Objects;
import jcuda.driver.CUdeviceptr;

/**
 * Device memory passed between JCuda and tpkernels without a copy, in both directions and never with its ownership:
 * a JCuda {@link CUdeviceptr} seen as a {@link Tensor} stays JCuda's to free, and a tensor's memory seen as a
 * {@code CUdeviceptr} stays the tensor's. Both sides use the device's primary context ({@link JcudaDevice}), so an
 * address is valid on either.
 */
public final class JcudaPointers {
    private JcudaPointers() {
    }

    /**
     * A {@code CUdeviceptr} for device address {@code address}. JCuda has no public way to set a pointer's native
     * value (only its JNI calls do), but every driver call it makes passes native value plus byte offset, so a null
     * pointer offset by the address is that address: JCuda's own {@link CUdeviceptr#withByteOffset}. The exception
     * is the device pointers inside a {@code CUDA_RESOURCE_DESC} (texture and surface objects), where JCuda reads the
     * native value alone: use a pointer from {@code cuMemAlloc} there.
     *
     * @param address a device address in the primary context
     * @return a pointer JCuda passes as that address; it owns nothing
     * @throws IllegalArgumentException for address 0
     */
    public static CUdeviceptr toCUdeviceptr(long address) {
        if (address == 0) {
            throw new IllegalArgumentException("device address 0 is the null pointer, not memory");
        }
        return new CUdeviceptr().withByteOffset(address);
    }

    /**
     * The device address {@code pointer} stands for (see {@link DeviceAddress} for how it is read).
     *
     * @param pointer a JCuda pointer
     * @return its device address, offset included
     * @throws IllegalArgumentException when the pointer is null or was never allocated
     */
    public static long address(CUdeviceptr pointer) {
        Objects.requireNonNull(pointer, "pointer");
        long address = DeviceAddress.of(pointer);
        if (address == 0) {
            throw new IllegalArgumentException("JCuda pointer " + pointer + " is null: it was never allocated");
        }
        return address;
    }

    /**
     * The first element of {@code tensor} as a {@code CUdeviceptr}: no copy, and the pointer owns nothing. Do not
     * {@code cuMemFree} it; it is valid while the tensor's memory is open.
     *
     * @param tensor a tensor in device memory
     * @return a pointer to its first element
     * @throws IllegalStateException when the tensor is not in device memory or its memory was closed
     */
    public static CUdeviceptr of(Tensor tensor) {
        return toCUdeviceptr(tensor.devicePointer());
    }

    /**
     * A tensor of {@code shape} over JCuda's device memory at {@code pointer}, of which {@code bytes} may be used
     * (the size given to {@code cuMemAlloc}, or less): no copy, and closing the tensor frees nothing. The memory
     * stays JCuda's: whoever allocated it frees it, after the tensor's last use.
     *
     * @param pointer JCuda's device memory
     * @param bytes how many bytes of it the tensor may use
     * @param device the device the memory is on
     * @param dtype the element type
     * @param shape the dimensions
     * @return a tensor over the memory, freeing nothing when closed
     * @throws IllegalArgumentException when the pointer is null, or the shape does not fit in {@code bytes}
     */
    public static Tensor wrap(CUdeviceptr pointer, long bytes, CudaDevice device, DType dtype, long... shape) {
        return Tensor.view(DeviceBuffer.wrap(device, address(pointer), bytes), 0, dtype, shape);
    }
}
