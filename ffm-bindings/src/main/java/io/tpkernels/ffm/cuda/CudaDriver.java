package io.tpkernels.ffm.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.tpkernels.ffm.CConstant;
import io.tpkernels.ffm.LibraryName;
import io.tpkernels.ffm.NativeLibrary;
import io.tpkernels.ffm.OutParams;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import java.util.Optional;

/**
 * The CUDA driver API ({@code libcuda.so.1}) through FFM: one {@code static final MethodHandle} per function
 * (declared in {@link CudaDriverApi}), and a checked Java method per function that turns every non-zero
 * {@code CUresult} into a {@link CudaException}.
 *
 * <p>Opaque handles ({@code CUcontext}, {@code CUstream}, ...) are {@link MemorySegment}s of size zero;
 * device pointers ({@code CUdeviceptr}) are {@code long}s. The methods are thin: ownership, contexts and
 * checks of shapes live in the {@code kernels} module.
 */
public final class CudaDriver {
    private CudaDriver() {
    }

    private static final NativeLibrary LIB = NativeLibrary.load(LibraryName.CUDA_DRIVER);

    private static final MethodHandle cuInit = LIB.downcall(CudaDriverApi.cuInit);
    private static final MethodHandle cuDriverGetVersion = LIB.downcall(CudaDriverApi.cuDriverGetVersion);
    private static final MethodHandle cuGetErrorName = LIB.downcall(CudaDriverApi.cuGetErrorName);
    private static final MethodHandle cuGetErrorString = LIB.downcall(CudaDriverApi.cuGetErrorString);
    private static final MethodHandle cuDeviceGetCount = LIB.downcall(CudaDriverApi.cuDeviceGetCount);
    private static final MethodHandle cuDeviceGet = LIB.downcall(CudaDriverApi.cuDeviceGet);
    private static final MethodHandle cuDeviceGetName = LIB.downcall(CudaDriverApi.cuDeviceGetName);
    private static final MethodHandle cuDeviceGetAttribute = LIB.downcall(CudaDriverApi.cuDeviceGetAttribute);
    private static final MethodHandle cuDeviceTotalMem_v2 = LIB.downcall(CudaDriverApi.cuDeviceTotalMem_v2);
    private static final MethodHandle cuDevicePrimaryCtxRetain = LIB.downcall(CudaDriverApi.cuDevicePrimaryCtxRetain);
    private static final MethodHandle cuDevicePrimaryCtxRelease_v2 =
            LIB.downcall(CudaDriverApi.cuDevicePrimaryCtxRelease_v2);
    private static final MethodHandle cuCtxSetCurrent = LIB.downcall(CudaDriverApi.cuCtxSetCurrent);
    private static final MethodHandle cuCtxGetCurrent = LIB.downcall(CudaDriverApi.cuCtxGetCurrent);
    private static final MethodHandle cuCtxSynchronize = LIB.downcall(CudaDriverApi.cuCtxSynchronize);
    private static final MethodHandle cuMemAlloc_v2 = LIB.downcall(CudaDriverApi.cuMemAlloc_v2);
    private static final MethodHandle cuMemFree_v2 = LIB.downcall(CudaDriverApi.cuMemFree_v2);
    private static final MethodHandle cuMemAllocAsync = LIB.downcall(CudaDriverApi.cuMemAllocAsync);
    private static final MethodHandle cuMemFreeAsync = LIB.downcall(CudaDriverApi.cuMemFreeAsync);
    private static final MethodHandle cuMemGetInfo_v2 = LIB.downcall(CudaDriverApi.cuMemGetInfo_v2);
    private static final MethodHandle cuMemsetD8_v2 = LIB.downcall(CudaDriverApi.cuMemsetD8_v2);
    private static final MethodHandle cuMemsetD8Async = LIB.downcall(CudaDriverApi.cuMemsetD8Async);
    private static final MethodHandle cuMemcpyHtoD_v2 = LIB.downcall(CudaDriverApi.cuMemcpyHtoD_v2);
    private static final MethodHandle cuMemcpyDtoH_v2 = LIB.downcall(CudaDriverApi.cuMemcpyDtoH_v2);
    private static final MethodHandle cuMemcpyDtoD_v2 = LIB.downcall(CudaDriverApi.cuMemcpyDtoD_v2);
    private static final MethodHandle cuMemcpyHtoDAsync_v2 = LIB.downcall(CudaDriverApi.cuMemcpyHtoDAsync_v2);
    private static final MethodHandle cuMemcpyDtoHAsync_v2 = LIB.downcall(CudaDriverApi.cuMemcpyDtoHAsync_v2);
    private static final MethodHandle cuMemcpyDtoDAsync_v2 = LIB.downcall(CudaDriverApi.cuMemcpyDtoDAsync_v2);
    private static final MethodHandle cuStreamCreate = LIB.downcall(CudaDriverApi.cuStreamCreate);
    private static final MethodHandle cuStreamDestroy_v2 = LIB.downcall(CudaDriverApi.cuStreamDestroy_v2);
    private static final MethodHandle cuStreamSynchronize = LIB.downcall(CudaDriverApi.cuStreamSynchronize);
    private static final MethodHandle cuStreamQuery = LIB.downcall(CudaDriverApi.cuStreamQuery);
    private static final MethodHandle cuStreamWaitEvent = LIB.downcall(CudaDriverApi.cuStreamWaitEvent);
    private static final MethodHandle cuStreamIsCapturing = LIB.downcall(CudaDriverApi.cuStreamIsCapturing);
    private static final MethodHandle cuEventCreate = LIB.downcall(CudaDriverApi.cuEventCreate);
    private static final MethodHandle cuEventDestroy_v2 = LIB.downcall(CudaDriverApi.cuEventDestroy_v2);
    private static final MethodHandle cuEventRecord = LIB.downcall(CudaDriverApi.cuEventRecord);
    private static final MethodHandle cuEventSynchronize = LIB.downcall(CudaDriverApi.cuEventSynchronize);
    private static final MethodHandle cuEventElapsedTime_v2 = LIB.downcall(CudaDriverApi.cuEventElapsedTime_v2);
    private static final MethodHandle cuModuleLoadData = LIB.downcall(CudaDriverApi.cuModuleLoadData);
    private static final MethodHandle cuModuleUnload = LIB.downcall(CudaDriverApi.cuModuleUnload);
    private static final MethodHandle cuModuleGetFunction = LIB.downcall(CudaDriverApi.cuModuleGetFunction);
    private static final MethodHandle cuLaunchKernel = LIB.downcall(CudaDriverApi.cuLaunchKernel);
    private static final MethodHandle cuFuncGetAttribute = LIB.downcall(CudaDriverApi.cuFuncGetAttribute);
    private static final MethodHandle cuFuncSetAttribute = LIB.downcall(CudaDriverApi.cuFuncSetAttribute);
    private static final MethodHandle cuTensorMapEncodeTiled = LIB.downcall(CudaDriverApi.cuTensorMapEncodeTiled);

    /** The outcome of {@code cuInit}, computed once. */
    private static final class Init {
        static final String FAILURE = initialize();

        private static String initialize() {
            if (!LIB.isLoaded()) {
                return LIB.reason().orElseThrow();
            }
            try {
                int s = (int) cuInit.invokeExact(0);
                return s == 0 ? null : "cuInit(0) failed: " + errorName(s) + " (" + errorString(s) + ")";
            } catch (Throwable t) {
                return t.getMessage();
            }
        }
    }

    /**
     * The driver library as loaded (or why not).
     *
     * @return the library, loaded or not
     */
    public static NativeLibrary library() {
        return LIB;
    }

    /**
     * Whether the driver was loaded and {@code cuInit} succeeded (there may still be zero devices).
     *
     * @return {@code true} when the driver can be used
     */
    public static boolean isAvailable() {
        return Init.FAILURE == null;
    }

    /**
     * Why the driver is not available, in one sentence; empty when it is.
     *
     * @return the reason, or empty
     */
    public static Optional<String> unavailableReason() {
        return Optional.ofNullable(Init.FAILURE);
    }

    /** Throws {@link IllegalStateException} with the one-sentence reason unless the driver is usable. */
    public static void requireAvailable() {
        if (Init.FAILURE != null) {
            throw new IllegalStateException("CUDA is not available: " + Init.FAILURE);
        }
    }

    // ---- status mapping

    /**
     * The symbolic name of {@code status}, from the driver or, failing that, from {@code cuda.h}'s table.
     *
     * @param status a {@code CUresult}
     * @return its name, such as {@code CUDA_ERROR_OUT_OF_MEMORY}; {@code CUDA_ERROR_UNKNOWN_STATUS_<n>} for one neither
     *     knows
     */
    public static String errorName(int status) {
        if (LIB.isLoaded()) {
            try {
                MemorySegment out = OutParams.get();
                if ((int) cuGetErrorName.invokeExact(status, out) == 0) {
                    return out.get(ADDRESS, 0).reinterpret(256).getString(0);
                }
            } catch (Throwable ignored) {
                // fall through to the table
            }
        }
        for (CConstant c : CudaDriverApi.RESULTS) {
            if (c.value() == status) {
                return c.name();
            }
        }
        return "CUDA_ERROR_UNKNOWN_STATUS_" + status;
    }

    /**
     * The driver's description of {@code status}, or an empty string when it cannot say.
     *
     * @param status a {@code CUresult}
     * @return the description
     */
    public static String errorString(int status) {
        if (LIB.isLoaded()) {
            try {
                MemorySegment out = OutParams.get();
                if ((int) cuGetErrorString.invokeExact(status, out) == 0) {
                    return out.get(ADDRESS, 0).reinterpret(1024).getString(0);
                }
            } catch (Throwable ignored) {
                // no description
            }
        }
        return "";
    }

    private static void check(int status, String call) {
        if (status != 0) {
            throw new CudaException(status, call);
        }
    }

    // ---- initialization and devices

    /**
     * {@code cuDriverGetVersion}: e.g. 13000 for CUDA 13.0.
     *
     * @return the version, {@code 1000·major + 10·minor}
     * @throws IllegalStateException when the driver is not available
     * @throws CudaException when the driver returns an error status
     */
    public static int driverVersion() {
        requireAvailable();
        MemorySegment out = OutParams.get();
        try {
            check((int) cuDriverGetVersion.invokeExact(out), "cuDriverGetVersion()");
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        return out.get(JAVA_INT, 0);
    }

    /**
     * {@code cuDeviceGetCount}.
     *
     * @return the number of visible devices
     * @throws IllegalStateException when the driver is not available
     * @throws CudaException when the driver returns an error status
     */
    public static int deviceCount() {
        requireAvailable();
        MemorySegment out = OutParams.get();
        try {
            check((int) cuDeviceGetCount.invokeExact(out), "cuDeviceGetCount()");
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        return out.get(JAVA_INT, 0);
    }

    /**
     * {@code cuDeviceGet}: the {@code CUdevice} handle of an ordinal.
     *
     * @param ordinal the device's ordinal
     * @return the handle
     * @throws IllegalStateException when the driver is not available
     * @throws CudaException when the driver returns an error status (no such device, say)
     */
    public static int device(int ordinal) {
        requireAvailable();
        MemorySegment out = OutParams.get();
        try {
            int status = (int) cuDeviceGet.invokeExact(out, ordinal);
            if (status != 0) {
                throw new CudaException(status, "cuDeviceGet(ordinal=" + ordinal + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        return out.get(JAVA_INT, 0);
    }

    /**
     * {@code cuDeviceGetName}.
     *
     * @param device a {@code CUdevice} handle
     * @return the device's name
     * @throws CudaException when the driver returns an error status
     */
    public static String deviceName(int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocate(256);
            int status = (int) cuDeviceGetName.invokeExact(name, 256, device);
            if (status != 0) {
                throw new CudaException(status, "cuDeviceGetName(device=" + device + ")");
            }
            return name.getString(0);
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cuDeviceGetAttribute}, with {@code attribute} one of {@code CudaDriverApi.CU_DEVICE_ATTRIBUTE_*}.
     *
     * @param attribute the attribute
     * @param device a {@code CUdevice} handle
     * @return its value
     * @throws CudaException when the driver returns an error status
     */
    public static int deviceAttribute(int attribute, int device) {
        MemorySegment out = OutParams.get();
        try {
            int status = (int) cuDeviceGetAttribute.invokeExact(out, attribute, device);
            if (status != 0) {
                throw new CudaException(status, "cuDeviceGetAttribute(attribute=" + attribute + ", device="
                        + device + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        return out.get(JAVA_INT, 0);
    }

    /**
     * {@code cuDeviceTotalMem_v2}: bytes of device memory.
     *
     * @param device a {@code CUdevice} handle
     * @return the bytes
     * @throws CudaException when the driver returns an error status
     */
    public static long deviceTotalMem(int device) {
        MemorySegment out = OutParams.get();
        try {
            int status = (int) cuDeviceTotalMem_v2.invokeExact(out, device);
            if (status != 0) {
                throw new CudaException(status, "cuDeviceTotalMem_v2(device=" + device + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        return out.get(JAVA_LONG, 0);
    }

    // ---- contexts

    /**
     * {@code cuDevicePrimaryCtxRetain}. Pair with {@link #primaryCtxRelease}.
     *
     * @param device a {@code CUdevice} handle
     * @return the {@code CUcontext}
     * @throws CudaException when the driver returns an error status
     */
    public static MemorySegment primaryCtxRetain(int device) {
        MemorySegment out = OutParams.get();
        try {
            int status = (int) cuDevicePrimaryCtxRetain.invokeExact(out, device);
            if (status != 0) {
                throw new CudaException(status, "cuDevicePrimaryCtxRetain(device=" + device + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        return out.get(ADDRESS, 0);
    }

    /**
     * {@code cuDevicePrimaryCtxRelease_v2}.
     *
     * @param device a {@code CUdevice} handle
     * @throws CudaException when the driver returns an error status
     */
    public static void primaryCtxRelease(int device) {
        try {
            int status = (int) cuDevicePrimaryCtxRelease_v2.invokeExact(device);
            if (status != 0) {
                throw new CudaException(status, "cuDevicePrimaryCtxRelease_v2(device=" + device + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cuCtxSetCurrent}: binds {@code context} to the calling thread.
     *
     * @param context a {@code CUcontext}
     * @throws CudaException when the driver returns an error status
     */
    public static void ctxSetCurrent(MemorySegment context) {
        try {
            int status = (int) cuCtxSetCurrent.invokeExact(context);
            if (status != 0) {
                throw new CudaException(status, "cuCtxSetCurrent(context=" + context.address() + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cuCtxGetCurrent}: the calling thread's context ({@link MemorySegment#NULL} if none).
     *
     * @return the context
     * @throws CudaException when the driver returns an error status
     */
    public static MemorySegment ctxGetCurrent() {
        MemorySegment out = OutParams.get();
        try {
            check((int) cuCtxGetCurrent.invokeExact(out), "cuCtxGetCurrent()");
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        return out.get(ADDRESS, 0);
    }

    /**
     * {@code cuCtxSynchronize}: waits for all work of the current context; reports asynchronous errors.
     *
     * @throws CudaException when the driver returns an error status, including one of earlier asynchronous work
     */
    public static void ctxSynchronize() {
        try {
            check((int) cuCtxSynchronize.invokeExact(), "cuCtxSynchronize()");
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    // ---- memory

    /**
     * {@code cuMemAlloc_v2}: a device pointer to {@code bytes} bytes (256-byte aligned).
     *
     * @param bytes the size, at least 1
     * @return the device address
     * @throws CudaException when the driver returns an error status (out of memory, say)
     */
    public static long memAlloc(long bytes) {
        MemorySegment out = OutParams.get();
        try {
            int status = (int) cuMemAlloc_v2.invokeExact(out, bytes);
            if (status != 0) {
                throw new CudaException(status, "cuMemAlloc_v2(bytes=" + bytes + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        return out.get(JAVA_LONG, 0);
    }

    /**
     * {@code cuMemFree_v2}.
     *
     * @param pointer a device address from {@link #memAlloc}
     * @throws CudaException when the driver returns an error status
     */
    public static void memFree(long pointer) {
        try {
            int status = (int) cuMemFree_v2.invokeExact(pointer);
            if (status != 0) {
                throw new CudaException(status, "cuMemFree_v2(pointer=0x" + Long.toHexString(pointer) + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cuMemAllocAsync}: {@code bytes} from the device's default pool, usable by work queued on {@code stream}
     * after this call (and by other streams only after synchronizing with it).
     *
     * @param bytes the size, at least 1
     * @param stream the {@code CUstream} whose order the allocation follows
     * @return the device address
     * @throws CudaException when the driver returns an error status
     */
    public static long memAllocAsync(long bytes, MemorySegment stream) {
        MemorySegment out = OutParams.get();
        try {
            int status = (int) cuMemAllocAsync.invokeExact(out, bytes, stream);
            if (status != 0) {
                throw new CudaException(status, "cuMemAllocAsync(bytes=" + bytes + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        return out.get(JAVA_LONG, 0);
    }

    /**
     * {@code cuMemFreeAsync}: returns the memory to its pool once the work queued on {@code stream} so far is done.
     *
     * @param pointer a device address from {@link #memAllocAsync}
     * @param stream the {@code CUstream} whose order the free follows
     * @throws CudaException when the driver returns an error status
     */
    public static void memFreeAsync(long pointer, MemorySegment stream) {
        try {
            int status = (int) cuMemFreeAsync.invokeExact(pointer, stream);
            if (status != 0) {
                throw new CudaException(status, "cuMemFreeAsync(pointer=0x" + Long.toHexString(pointer) + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cuMemGetInfo_v2}: {@code {free, total}} bytes of the current context's device.
     *
     * @return two numbers: free bytes, then total bytes
     * @throws CudaException when the driver returns an error status
     */
    public static long[] memGetInfo() {
        MemorySegment out = OutParams.get();
        try {
            check((int) cuMemGetInfo_v2.invokeExact(out, out.asSlice(8)), "cuMemGetInfo_v2()");
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        return new long[] {out.get(JAVA_LONG, 0), out.get(JAVA_LONG, 8)};
    }

    /**
     * {@code cuMemsetD8_v2}: sets {@code count} bytes at {@code pointer} to {@code value}.
     *
     * @param pointer the device address
     * @param value the byte
     * @param count how many bytes
     * @throws CudaException when the driver returns an error status
     */
    public static void memsetD8(long pointer, byte value, long count) {
        try {
            int status = (int) cuMemsetD8_v2.invokeExact(pointer, value, count);
            if (status != 0) {
                throw new CudaException(status, "cuMemsetD8_v2(pointer=0x" + Long.toHexString(pointer) + ", value="
                        + value + ", count=" + count + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cuMemsetD8Async} on {@code stream}.
     *
     * @param pointer the device address
     * @param value the byte
     * @param count how many bytes
     * @param stream the {@code CUstream} to queue on
     * @throws CudaException when the driver returns an error status
     */
    public static void memsetD8Async(long pointer, byte value, long count, MemorySegment stream) {
        try {
            int status = (int) cuMemsetD8Async.invokeExact(pointer, value, count, stream);
            if (status != 0) {
                throw new CudaException(status, "cuMemsetD8Async(pointer=0x" + Long.toHexString(pointer)
                        + ", value=" + value + ", count=" + count + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cuMemcpyHtoD_v2}: {@code bytes} from host {@code src} to device {@code dst}.
     *
     * @param dst the device address
     * @param src host memory of at least {@code bytes}
     * @param bytes how many bytes
     * @throws CudaException when the driver returns an error status
     */
    public static void memcpyHtoD(long dst, MemorySegment src, long bytes) {
        try {
            int status = (int) cuMemcpyHtoD_v2.invokeExact(dst, src, bytes);
            if (status != 0) {
                throw new CudaException(status, "cuMemcpyHtoD_v2(dst=0x" + Long.toHexString(dst) + ", bytes="
                        + bytes + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cuMemcpyDtoH_v2}: {@code bytes} from device {@code src} to host {@code dst}.
     *
     * @param dst host memory of at least {@code bytes}
     * @param src the device address
     * @param bytes how many bytes
     * @throws CudaException when the driver returns an error status
     */
    public static void memcpyDtoH(MemorySegment dst, long src, long bytes) {
        try {
            int status = (int) cuMemcpyDtoH_v2.invokeExact(dst, src, bytes);
            if (status != 0) {
                throw new CudaException(status, "cuMemcpyDtoH_v2(src=0x" + Long.toHexString(src) + ", bytes="
                        + bytes + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cuMemcpyDtoD_v2}.
     *
     * @param dst the destination device address
     * @param src the source device address
     * @param bytes how many bytes
     * @throws CudaException when the driver returns an error status
     */
    public static void memcpyDtoD(long dst, long src, long bytes) {
        try {
            int status = (int) cuMemcpyDtoD_v2.invokeExact(dst, src, bytes);
            if (status != 0) {
                throw new CudaException(status, "cuMemcpyDtoD_v2(dst=0x" + Long.toHexString(dst)
                    + ", src=0x" + Long.toHexString(src) + ", bytes=" + bytes + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cuMemcpyHtoDAsync_v2}. The host memory must stay alive until the stream reaches the copy.
     *
     * @param dst the device address
     * @param src host memory of at least {@code bytes}
     * @param bytes how many bytes
     * @param stream the {@code CUstream} to queue on
     * @throws CudaException when the driver returns an error status
     */
    public static void memcpyHtoDAsync(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        try {
            int status = (int) cuMemcpyHtoDAsync_v2.invokeExact(dst, src, bytes, stream);
            if (status != 0) {
                throw new CudaException(status, "cuMemcpyHtoDAsync_v2(dst=0x" + Long.toHexString(dst) + ", bytes="
                        + bytes + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cuMemcpyDtoHAsync_v2}. The host memory must stay alive until the stream reaches the copy.
     *
     * @param dst host memory of at least {@code bytes}
     * @param src the device address
     * @param bytes how many bytes
     * @param stream the {@code CUstream} to queue on
     * @throws CudaException when the driver returns an error status
     */
    public static void memcpyDtoHAsync(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        try {
            int status = (int) cuMemcpyDtoHAsync_v2.invokeExact(dst, src, bytes, stream);
            if (status != 0) {
                throw new CudaException(status, "cuMemcpyDtoHAsync_v2(src=0x" + Long.toHexString(src) + ", bytes="
                        + bytes + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cuMemcpyDtoDAsync_v2}.
     *
     * @param dst the destination device address
     * @param src the source device address
     * @param bytes how many bytes
     * @param stream the {@code CUstream} to queue on
     * @throws CudaException when the driver returns an error status
     */
    public static void memcpyDtoDAsync(long dst, long src, long bytes, MemorySegment stream) {
        try {
            int status = (int) cuMemcpyDtoDAsync_v2.invokeExact(dst, src, bytes, stream);
            if (status != 0) {
                throw new CudaException(status, "cuMemcpyDtoDAsync_v2(dst=0x"
                    + Long.toHexString(dst) + ", src=0x" + Long.toHexString(src) + ", bytes=" + bytes + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    // ---- streams and events

    /**
     * {@code cuStreamCreate} with {@code CU_STREAM_*} flags.
     *
     * @param flags {@code CU_STREAM_DEFAULT} or {@code CU_STREAM_NON_BLOCKING}
     * @return the {@code CUstream}
     * @throws CudaException when the driver returns an error status
     */
    public static MemorySegment streamCreate(int flags) {
        MemorySegment out = OutParams.get();
        try {
            int status = (int) cuStreamCreate.invokeExact(out, flags);
            if (status != 0) {
                throw new CudaException(status, "cuStreamCreate(flags=" + flags + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        return out.get(ADDRESS, 0);
    }

    /**
     * {@code cuStreamDestroy_v2}.
     *
     * @param stream the {@code CUstream}
     * @throws CudaException when the driver returns an error status
     */
    public static void streamDestroy(MemorySegment stream) {
        try {
            int status = (int) cuStreamDestroy_v2.invokeExact(stream);
            if (status != 0) {
                throw new CudaException(status, "cuStreamDestroy_v2(stream=" + stream.address() + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cuStreamSynchronize}: waits for the stream; reports asynchronous errors of its work.
     *
     * @param stream the {@code CUstream}
     * @throws CudaException when the driver returns an error status, including one of the stream's earlier asynchronous
     *     work
     */
    public static void streamSynchronize(MemorySegment stream) {
        try {
            int status = (int) cuStreamSynchronize.invokeExact(stream);
            if (status != 0) {
                throw new CudaException(status, "cuStreamSynchronize(stream=" + stream.address() + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cuStreamQuery}: whether all work queued on the stream is done; an asynchronous error throws.
     *
     * @param stream the {@code CUstream}
     * @return {@code true} when the stream is idle
     * @throws CudaException when the driver returns an error status other than not-ready
     */
    public static boolean streamQuery(MemorySegment stream) {
        int s;
        try {
            s = (int) cuStreamQuery.invokeExact(stream);
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        if (s == CUDA_ERROR_NOT_READY) {
            return false;
        }
        check(s, "cuStreamQuery(stream=" + stream.address() + ")");
        return true;
    }

    /**
     * {@code cuStreamIsCapturing}: whether work queued on the stream is being captured into a CUDA graph rather
     * than run ({@code CUstreamCaptureStatus} other than NONE).
     *
     * @param stream the {@code CUstream}
     * @return whether a capture is in progress
     * @throws CudaException when the driver returns an error status
     */
    public static boolean streamIsCapturing(MemorySegment stream) {
        MemorySegment out = OutParams.get();
        try {
            int status = (int) cuStreamIsCapturing.invokeExact(stream, out);
            if (status != 0) {
                throw new CudaException(status, "cuStreamIsCapturing(stream=" + stream.address() + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        return out.get(JAVA_INT, 0) != CudaDriverApi.CU_STREAM_CAPTURE_STATUS_NONE;
    }

    /** {@code CUDA_ERROR_NOT_READY}: work still running (not an error for queries). */
    private static final int CUDA_ERROR_NOT_READY = 600;

    /**
     * {@code cuEventCreate} with {@code CU_EVENT_*} flags.
     *
     * @param flags {@code CU_EVENT_DEFAULT} or {@code CU_EVENT_DISABLE_TIMING}
     * @return the {@code CUevent}
     * @throws CudaException when the driver returns an error status
     */
    public static MemorySegment eventCreate(int flags) {
        MemorySegment out = OutParams.get();
        try {
            int status = (int) cuEventCreate.invokeExact(out, flags);
            if (status != 0) {
                throw new CudaException(status, "cuEventCreate(flags=" + flags + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        return out.get(ADDRESS, 0);
    }

    /**
     * {@code cuEventDestroy_v2}.
     *
     * @param event the {@code CUevent}
     * @throws CudaException when the driver returns an error status
     */
    public static void eventDestroy(MemorySegment event) {
        try {
            int status = (int) cuEventDestroy_v2.invokeExact(event);
            if (status != 0) {
                throw new CudaException(status, "cuEventDestroy_v2(event=" + event.address() + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cuEventRecord} on {@code stream}.
     *
     * @param event the {@code CUevent}
     * @param stream the {@code CUstream} to record it on
     * @throws CudaException when the driver returns an error status
     */
    public static void eventRecord(MemorySegment event, MemorySegment stream) {
        try {
            int status = (int) cuEventRecord.invokeExact(event, stream);
            if (status != 0) {
                throw new CudaException(status, "cuEventRecord(event=" + event.address() + ", stream="
                        + stream.address() + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cuStreamWaitEvent}: work queued on {@code stream} after this waits for the event's recorded work.
     *
     * @param stream the {@code CUstream} that waits
     * @param event the {@code CUevent} it waits for
     * @throws CudaException when the driver returns an error status
     */
    public static void streamWaitEvent(MemorySegment stream, MemorySegment event) {
        try {
            int status = (int) cuStreamWaitEvent.invokeExact(stream, event, 0);
            if (status != 0) {
                throw new CudaException(status, "cuStreamWaitEvent(stream=" + stream.address() + ", event="
                        + event.address() + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cuEventSynchronize}.
     *
     * @param event the {@code CUevent}
     * @throws CudaException when the driver returns an error status
     */
    public static void eventSynchronize(MemorySegment event) {
        try {
            int status = (int) cuEventSynchronize.invokeExact(event);
            if (status != 0) {
                throw new CudaException(status, "cuEventSynchronize(event=" + event.address() + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cuEventElapsedTime_v2}: milliseconds between two completed events.
     *
     * @param start the earlier event
     * @param end the later event
     * @return the milliseconds
     * @throws CudaException when the driver returns an error status (an event not completed, or created without timing)
     */
    public static float eventElapsedTime(MemorySegment start, MemorySegment end) {
        MemorySegment out = OutParams.get();
        try {
            check((int) cuEventElapsedTime_v2.invokeExact(out, start, end), "cuEventElapsedTime_v2()");
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        return out.get(JAVA_FLOAT, 0);
    }

    // ---- modules and launches

    /**
     * {@code cuModuleLoadData}: loads a NUL-terminated PTX image (or a cubin) into the current context.
     *
     * @param image the cubin, or the PTX text ending in a NUL
     * @return the {@code CUmodule}
     * @throws CudaException when the driver returns an error status (code this device cannot run, say)
     */
    public static MemorySegment moduleLoadData(MemorySegment image) {
        MemorySegment out = OutParams.get();
        try {
            int status = (int) cuModuleLoadData.invokeExact(out, image);
            if (status != 0) {
                throw new CudaException(status, "cuModuleLoadData(bytes=" + image.byteSize() + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        return out.get(ADDRESS, 0);
    }

    /**
     * {@code cuModuleUnload}.
     *
     * @param module the {@code CUmodule}
     * @throws CudaException when the driver returns an error status
     */
    public static void moduleUnload(MemorySegment module) {
        try {
            int status = (int) cuModuleUnload.invokeExact(module);
            if (status != 0) {
                throw new CudaException(status, "cuModuleUnload(module=" + module.address() + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cuModuleGetFunction}: the kernel named {@code name} (its {@code extern "C"} name).
     *
     * @param module the {@code CUmodule}
     * @param name the kernel's name
     * @return the {@code CUfunction}
     * @throws CudaException when the driver returns an error status (no such kernel, say)
     */
    public static MemorySegment moduleGetFunction(MemorySegment module, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = OutParams.get();
            int status = (int) cuModuleGetFunction.invokeExact(out, module, arena.allocateFrom(name));
            if (status != 0) {
                throw new CudaException(status, "cuModuleGetFunction(name=" + name + ")");
            }
            return out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /**
     * {@code cuLaunchKernel}. {@code params} is a {@code void*[]} with one pointer per kernel parameter;
     * the driver copies the values during the call, so the buffer may be reused as soon as this returns.
     *
     * @param function the {@code CUfunction}
     * @param gridX blocks along x
     * @param gridY blocks along y
     * @param gridZ blocks along z
     * @param blockX threads per block along x
     * @param blockY threads per block along y
     * @param blockZ threads per block along z
     * @param sharedBytes dynamic shared memory per block
     * @param stream the {@code CUstream} to queue on
     * @param params the parameters
     * @throws CudaException when the driver returns an error status, including one of earlier asynchronous work
     */
    public static void launchKernel(MemorySegment function, int gridX, int gridY, int gridZ,
                                    int blockX, int blockY, int blockZ, int sharedBytes,
                                    MemorySegment stream, MemorySegment params) {
        int s;
        try {
            s = (int) cuLaunchKernel.invokeExact(function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes,
                    stream, params, MemorySegment.NULL);
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        if (s != 0) {
            throw new CudaException(s, "cuLaunchKernel(grid=" + gridX + "x" + gridY + "x" + gridZ + ", block=" + blockX
                    + "x" + blockY + "x" + blockZ + ", sharedBytes=" + sharedBytes + ")");
        }
    }

    /**
     * {@code cuFuncGetAttribute}, with {@code attribute} one of {@code CudaDriverApi.CU_FUNC_ATTRIBUTE_*}.
     *
     * @param attribute the attribute
     * @param function the {@code CUfunction}
     * @return its value
     * @throws CudaException when the driver returns an error status
     */
    public static int funcGetAttribute(int attribute, MemorySegment function) {
        MemorySegment out = OutParams.get();
        try {
            int status = (int) cuFuncGetAttribute.invokeExact(out, attribute, function);
            if (status != 0) {
                throw new CudaException(status, "cuFuncGetAttribute(attribute=" + attribute + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        return out.get(JAVA_INT, 0);
    }

    /**
     * {@code cuFuncSetAttribute}, e.g. the maximum dynamic shared memory a kernel may use.
     *
     * @param function the {@code CUfunction}
     * @param attribute the attribute
     * @param value its new value
     * @throws CudaException when the driver returns an error status
     */
    public static void funcSetAttribute(MemorySegment function, int attribute, int value) {
        try {
            int status = (int) cuFuncSetAttribute.invokeExact(function, attribute, value);
            if (status != 0) {
                throw new CudaException(status, "cuFuncSetAttribute(attribute=" + attribute + ", value=" + value + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    /** The size of a {@code CUtensorMap} in bytes, and its alignment. */
    public static final long TENSOR_MAP_BYTES = 8L * CudaDriverApi.CU_TENSOR_MAP_NUM_QWORDS;
    /** The alignment a {@code CUtensorMap} needs, in bytes. */
    public static final long TENSOR_MAP_ALIGNMENT = 64;

    /**
     * {@code cuTensorMapEncodeTiled}: fills {@code map} ({@link #TENSOR_MAP_BYTES} bytes, 64-byte aligned) with the
     * descriptor of a {@code dims.length}-dimensional tensor at device address {@code address}: {@code dims} and
     * {@code box} innermost first, {@code strides} in bytes for dimensions 1.. (so one fewer), element strides 1,
     * no interleave, out-of-bounds elements read as zero. {@code dataType}, {@code swizzle} and
     * {@code l2Promotion} are {@code CudaDriverApi.CU_TENSOR_MAP_*} values.
     *
     * @param map where the descriptor is written
     * @param dataType the element type
     * @param address the tensor's device address
     * @param dims the dimensions' sizes, innermost first
     * @param strides the byte strides of dimensions 1 and up
     * @param box the box's sizes, innermost first
     * @param swizzle the shared-memory swizzle
     * @param l2Promotion the L2 promotion
     * @throws IllegalArgumentException when {@code strides} or {@code box} has the wrong length
     * @throws CudaException when the driver returns an error status (a misaligned address or stride, say)
     */
    public static void tensorMapEncodeTiled(MemorySegment map, int dataType, long address, long[] dims, long[] strides,
                                            int[] box, int swizzle, int l2Promotion) {
        int rank = dims.length;
        if (strides.length != rank - 1 || box.length != rank) {
            throw new IllegalArgumentException("a rank-" + rank + " tensor map takes " + (rank - 1) + " strides and "
                    + rank + " box sizes, not " + strides.length + " and " + box.length);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dimsSeg = arena.allocateFrom(JAVA_LONG, dims);
            MemorySegment stridesSeg = arena.allocateFrom(JAVA_LONG, rank == 1 ? new long[1] : strides);
            MemorySegment boxSeg = arena.allocateFrom(JAVA_INT, box);
            int[] ones = new int[rank];
            Arrays.fill(ones, 1);
            MemorySegment elementStrides = arena.allocateFrom(JAVA_INT, ones);
            int status = (int) cuTensorMapEncodeTiled.invokeExact(map, dataType, rank, MemorySegment.ofAddress(address),
                    dimsSeg, stridesSeg, boxSeg, elementStrides, CudaDriverApi.CU_TENSOR_MAP_INTERLEAVE_NONE, swizzle,
                    l2Promotion, CudaDriverApi.CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
            if (status != 0) {
                throw new CudaException(status, "cuTensorMapEncodeTiled(dataType=" + dataType + ", address=0x"
                        + Long.toHexString(address)
                            + ", dims=" + Arrays.toString(dims) + ", strides=" + Arrays.toString(strides)
                            + ", box=" + Arrays.toString(box) + ", swizzle=" + swizzle + ")");
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }
}
