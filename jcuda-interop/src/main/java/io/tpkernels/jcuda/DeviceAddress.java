package io.tpkernels.jcuda;

import jcuda.driver.CUdeviceptr;

/**
 * Reads the device address a {@link CUdeviceptr} stands for. JCuda keeps it in two fields, the native pointer that
 * {@code cuMemAlloc} sets and the byte offset that {@link CUdeviceptr#withByteOffset} adds, and its JNI code hands
 * their sum to the driver (JCuda's {@code PointerUtils::getPointer}). Neither has a public getter: only the
 * protected {@code getNativePointer()} and {@code getByteOffset()}, which a subclass may call on instances of
 * itself alone. So this subclass copies the pointer with {@code CUdeviceptr}'s protected copy constructor and reads
 * its own copy: JCuda's supported extension point, without reflection or {@code --add-opens}.
 */
final class DeviceAddress extends CUdeviceptr {

    private DeviceAddress(CUdeviceptr pointer) {
        super(pointer, 0);
    }

    /** The address {@code pointer} passes to the driver: its native pointer plus its byte offset. */
    static long of(CUdeviceptr pointer) {
        DeviceAddress copy = new DeviceAddress(pointer);
        return copy.getNativePointer() + copy.getByteOffset();
    }
}
