package io.tpkernels.runtime;

import static io.tpkernels.ffm.cuda.CudaDriverApi.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static io.tpkernels.ffm.cuda.CudaDriverApi.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
import static io.tpkernels.ffm.cuda.CudaDriverApi.CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE;
import static io.tpkernels.ffm.cuda.CudaDriverApi.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN;
import static io.tpkernels.ffm.cuda.CudaDriverApi.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT;

import io.tpkernels.ffm.cuda.CudaDriver;
import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An opened CUDA device: its primary context (retained once for the life of the process, shared with any
 * other library in it that uses the runtime API), its properties, and its module cache.
 *
 * <p>The driver API's current context belongs to the operating-system thread. A Java thread may not keep one (a
 * virtual thread moves between carriers), so every operation here makes the device current right before its
 * driver call, with nothing that could park the thread in between, instead of remembering it per Java thread.
 */
public final class CudaDevice {
    private static final ConcurrentHashMap<Integer, CudaDevice> OPENED = new ConcurrentHashMap<>();

    private final int ordinal;
    private final int handle;
    private final MemorySegment context;
    private final String name;
    private final int ccMajor;
    private final int ccMinor;
    private final int multiprocessors;
    private final long totalMemory;
    private final int l2CacheBytes;
    private final int maxSharedBytesPerBlock;
    private final ModuleCache modules;
    private final ErrorFlags errorFlags;
    private final KernelHealth kernelHealth;
    /** {@link CudaStream#scratch()} by stream handle address. */
    private final ConcurrentHashMap<Long, DeviceBuffer> streamScratch = new ConcurrentHashMap<>();

    private CudaDevice(int ordinal) {
        this.ordinal = ordinal;
        this.handle = CudaDriver.device(ordinal);
        this.context = CudaDriver.primaryCtxRetain(handle);
        this.name = CudaDriver.deviceName(handle);
        this.ccMajor = CudaDriver.deviceAttribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, handle);
        this.ccMinor = CudaDriver.deviceAttribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, handle);
        this.multiprocessors = CudaDriver.deviceAttribute(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, handle);
        this.totalMemory = CudaDriver.deviceTotalMem(handle);
        this.l2CacheBytes = CudaDriver.deviceAttribute(CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, handle);
        this.maxSharedBytesPerBlock = CudaDriver.deviceAttribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
                handle);
        this.modules = new ModuleCache(this);
        this.errorFlags = new ErrorFlags(this);
        this.kernelHealth = new KernelHealth(this);
    }

    /**
     * The number of CUDA devices visible, or 0 when the driver is not available. When there are none, the first call
     * in the process logs why ({@link #unavailableReason()}) on the {@link System.Logger} {@code io.tpkernels.runtime}:
     * at {@code INFO} on a machine without the driver or a device, at {@code WARNING} when a driver is there but
     * cannot be used (native access denied, {@code cuInit} failing).
     *
     * @return the device count, {@code >= 0}
     */
    public static int count() {
        int count = CudaDriver.isAvailable() ? CudaDriver.deviceCount() : 0;
        if (count == 0) {
            GpuAbsence.here().ifPresent(NoGpuNotice.JVM::tell);
        }
        return count;
    }

    /**
     * Why no CUDA device can be used, in one sentence (the driver library not found, native access denied,
     * {@code cuInit} failing, no device); empty when there is at least one. {@code tpk info} prints this sentence.
     *
     * @return the reason, or empty when a device can be used
     */
    public static Optional<String> unavailableReason() {
        return GpuAbsence.here().map(GpuAbsence::reason);
    }

    /**
     * The device with this ordinal, opened on first use.
     *
     * @param ordinal the driver's ordinal, in {@code [0, count())}
     * @return the device, the same object for every call with this ordinal
     * @throws IllegalStateException    when the CUDA driver is not available (the message says why)
     * @throws IllegalArgumentException when there is no such device
     */
    public static CudaDevice of(int ordinal) {
        CudaDevice d = OPENED.get(ordinal);
        if (d != null) {
            return d;
        }
        CudaDriver.requireAvailable();
        int count = CudaDriver.deviceCount();
        if (ordinal < 0 || ordinal >= count) {
            throw new IllegalArgumentException("CUDA device " + ordinal + " does not exist: " + count
                    + " device(s) visible");
        }
        return OPENED.computeIfAbsent(ordinal, CudaDevice::new);
    }

    /**
     * The device a tensor on {@code device} lives on.
     *
     * @param device a CUDA device
     * @return the opened device
     * @throws IllegalArgumentException when {@code device} is the CPU or no such device exists
     * @throws IllegalStateException when the CUDA driver is not available
     */
    public static CudaDevice of(Device device) {
        if (!(device instanceof Device.Cuda cuda)) {
            throw new IllegalArgumentException("not a CUDA device: " + device);
        }
        return of(cuda.ordinal());
    }

    /** Makes this device's context current on the calling thread (a cheap driver call: no wait, no allocation). */
    public void makeCurrent() {
        CudaDriver.ctxSetCurrent(context);
    }

    /**
     * The {@code CUcontext} handle of the device's primary context. Another binding of the driver in the process
     * (JCuda) compares it with the primary context it retained itself: equal handles mean one driver and one
     * context, so device pointers and modules pass freely between the two.
     *
     * @return the context handle, valid for the life of the process
     */
    public MemorySegment context() {
        return context;
    }

    /**
     * Allocates {@code bytes} of device memory (256-byte aligned).
     *
     * @param bytes the size, {@code >= 0}
     * @return the buffer, which the caller owns and closes; its contents are unspecified
     * @throws IllegalArgumentException when {@code bytes} is negative
     * @throws io.tpkernels.ffm.cuda.CudaException when the allocation fails (out of memory, say)
     */
    public DeviceBuffer allocate(long bytes) {
        return DeviceBuffer.allocate(this, bytes);
    }

    /** The scratch of the stream with this handle, allocated and zeroed (in that stream's order) on first use. */
    DeviceBuffer streamScratch(MemorySegment stream) {
        return streamScratch.computeIfAbsent(stream.address(), address -> {
            DeviceBuffer buffer = allocate(CudaStream.SCRATCH_BYTES);
            try {
                CudaDriver.memsetD8Async(buffer.pointer(), (byte) 0, CudaStream.SCRATCH_BYTES, stream);
                return buffer;
            } catch (RuntimeException e) {
                buffer.close();
                throw e;
            }
        });
    }

    /** Frees the scratch of a stream about to be destroyed, if it has one. */
    void releaseStreamScratch(MemorySegment stream) {
        DeviceBuffer buffer = streamScratch.remove(stream.address());
        if (buffer != null) {
            buffer.close();
        }
    }

    /**
     * Waits until all work on this device is done, reporting any asynchronous error.
     *
     * @throws io.tpkernels.ffm.cuda.CudaException when the device reports an error of earlier work
     */
    public void synchronize() {
        makeCurrent();
        CudaDriver.ctxSynchronize();
    }

    /**
     * {@code {free, total}} bytes of device memory.
     *
     * @return two numbers: the free bytes, then the total bytes
     */
    public long[] memoryInfo() {
        makeCurrent();
        return CudaDriver.memGetInfo();
    }

    /**
     * The PTX modules loaded on this device.
     *
     * @return this device's module cache
     */
    public ModuleCache modules() {
        return modules;
    }

    /**
     * What this process knows of each hand-written kernel on this device (its self-check's verdict).
     *
     * @return the device's kernel health
     */
    public KernelHealth kernelHealth() {
        return kernelHealth;
    }

    /**
     * The pool of device-side error flags kernels report bad input through.
     *
     * @return the device's error-flag pool
     */
    public ErrorFlags errorFlags() {
        return errorFlags;
    }

    /**
     * The device as a tensor location.
     *
     * @return {@code Device.cuda(ordinal())}
     */
    public Device device() {
        return Device.cuda(ordinal);
    }

    /**
     * The driver's ordinal of this device.
     *
     * @return the ordinal, {@code >= 0}
     */
    public int ordinal() {
        return ordinal;
    }

    /**
     * The device's name as the driver reports it ({@code "NVIDIA H100 80GB HBM3"}).
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * Whether this is tpkernels' CPU emulator of a CUDA device (the cuda-emulator module, loaded only when
     * {@code TPK_CUDA_LIBRARY_PATH} points at it) rather than a GPU: kernels run correctly there, slowly, and
     * its timings mean nothing.
     *
     * @return {@code true} on the emulator
     */
    public boolean isEmulator() {
        return name.startsWith(EMULATOR_NAME);
    }

    /** The name the emulator's driver gives its one device. */
    public static final String EMULATOR_NAME = "tpk CPU emulator";

    /**
     * Compute capability as {@code 10·major + minor} (90 for Hopper).
     *
     * @return the compute capability
     */
    public int computeCapability() {
        return ccMajor * 10 + ccMinor;
    }

    /**
     * The major version of the compute capability (9 for Hopper).
     *
     * @return the major version
     */
    public int computeCapabilityMajor() {
        return ccMajor;
    }

    /**
     * The minor version of the compute capability (0 for sm_90).
     *
     * @return the minor version
     */
    public int computeCapabilityMinor() {
        return ccMinor;
    }

    /**
     * The number of streaming multiprocessors.
     *
     * @return the SM count
     */
    public int multiprocessors() {
        return multiprocessors;
    }

    /**
     * The total device memory.
     *
     * @return the bytes
     */
    public long totalMemory() {
        return totalMemory;
    }

    /**
     * The size of the L2 cache.
     *
     * @return the bytes
     */
    public int l2CacheBytes() {
        return l2CacheBytes;
    }

    /**
     * The most shared memory one block may opt in to.
     *
     * @return the bytes
     */
    public int maxSharedBytesPerBlock() {
        return maxSharedBytesPerBlock;
    }

    @Override
    public String toString() {
        return "cuda:" + ordinal + " (" + name + ", sm_" + computeCapability() + ")";
    }
}
