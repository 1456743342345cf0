package io.tpkernels.jcuda;

import static io.tpkernels.jcuda.JcudaStatus.check;

import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.ModuleCache;
import io.tpkernels.runtime.Tuning;
import java.util.concurrent.ConcurrentHashMap;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

/**
 * JCuda's view of a device that tpkernels has opened: the same device and the same context, its primary context.
 * {@link CudaDevice} retains the primary context through the FFM binding; this retains it once more through JCuda
 * (both for the life of the process) and checks that the two handles are one, which they are exactly when both
 * bindings talk to the same loaded {@code libcuda.so.1}. Then device pointers, modules and streams of either side
 * are valid on the other.
 *
 * <p>The driver's current context is per thread. tpkernels makes the primary context current right before each of
 * its driver calls, so JCuda code that makes another context current ({@code cuCtxCreate}, {@code cuCtxSetCurrent})
 * does not disturb it; JCuda's own calls run in whatever context is current on the thread, which
 * {@link #makeCurrent()} sets back to the primary one.
 */
public final class JcudaDevice {
    private static final ConcurrentHashMap<Integer, JcudaDevice> OPENED = new ConcurrentHashMap<>();

    private final CudaDevice cuda;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final ConcurrentHashMap<String, CUmodule> modules = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, CUfunction> functions = new ConcurrentHashMap<>();
    /** Where its kernel code comes from, decided when the device is opened, as tpkernels' own loads decide it. */
    private final Tuning.PtxSource ptxSource = Tuning.fromSystemProperties().ptxSource();

    private JcudaDevice(CudaDevice cuda) {
        this.cuda = cuda;
        int ordinal = cuda.ordinal();
        check(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet(ordinal=" + ordinal + ")");
        check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain(device=" + ordinal + ")");
        check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent(primary context of " + cuda + ")");
        // What JCuda just made current, as the FFM binding reads it back: tpkernels' own primary context, or a
        // second driver loaded into the process (two libcuda.so.1 files), whose pointers the other cannot use.
        long seenByFfm = CudaDriver.ctxGetCurrent().address();
        if (seenByFfm != cuda.context().address()) {
            throw new IllegalStateException("JCuda and tpkernels see different primary contexts on " + cuda
                    + " (0x" + Long.toHexString(seenByFfm) + " and 0x" + Long.toHexString(cuda.context().address())
                    + "): two CUDA drivers are loaded, tpkernels' from " + CudaDriver.library().location().orElse("?")
                    + " and JCuda's from the dynamic loader's search; point TPK_CUDA_LIBRARY_PATH and LD_LIBRARY_PATH"
                    + " at the same libcuda.so.1");
        }
        cuda.makeCurrent();
    }

    /**
     * The JCuda view of CUDA device {@code ordinal}, opened on first use.
     *
     * @param ordinal the driver's ordinal of the device
     * @return the device, the same object for every call with this ordinal
     * @throws IllegalArgumentException when there is no such device
     * @throws IllegalStateException when JCuda's natives or the CUDA driver cannot be loaded, or when JCuda and
     *     tpkernels use different drivers
     */
    public static JcudaDevice of(int ordinal) {
        return of(CudaDevice.of(ordinal));
    }

    /**
     * The JCuda view of {@code cuda}, opened on first use.
     *
     * @param cuda the device as tpkernels opened it
     * @return the device, the same object for every call with this device
     * @throws IllegalStateException when JCuda's natives or the CUDA driver cannot be loaded (the message says
     *                               which, in one sentence), or when JCuda and tpkernels use different drivers
     */
    public static JcudaDevice of(CudaDevice cuda) {
        JcudaDevice d = OPENED.get(cuda.ordinal());
        if (d != null) {
            return d;
        }
        JcudaNatives.requireAvailable();
        return OPENED.computeIfAbsent(cuda.ordinal(), o -> new JcudaDevice(cuda));
    }

    /**
     * Makes the primary context current on the calling thread, so that the JCuda calls that follow run in it however
     * the thread's context was changed before.
     *
     * @throws io.tpkernels.ffm.cuda.CudaException when the driver refuses the context
     */
    public void makeCurrent() {
        check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent(primary context of " + cuda + ")");
        cuda.makeCurrent();
    }

    /**
     * Kernel {@code kernel} of the packaged module {@code module} ({@code embedding.cu} is module {@code embedding}),
     * loaded through JCuda from the code tpkernels itself chooses ({@link ModuleCache#loadWith}), each module once.
     *
     * @param module the packaged module, the {@code .cu} file's name without extension
     * @param kernel the kernel's name
     * @return the function, looked up once
     * @throws IllegalStateException when no code of the module loads on this device
     * @throws io.tpkernels.ffm.cuda.CudaException when the driver refuses the code or the module lacks the kernel
     */
    public CUfunction function(String module, String kernel) {
        return functions.computeIfAbsent(module + "/" + kernel, k -> {
            CUfunction f = new CUfunction();
            makeCurrent();
            check(JCudaDriver.cuModuleGetFunction(f, module(module), kernel),
                    "cuModuleGetFunction(" + module + ", " + kernel + ")");
            return f;
        });
    }

    private CUmodule module(String module) {
        return modules.computeIfAbsent(module, m -> cuda.modules().loadWith(m, ptxSource, (choice, image) -> {
            CUmodule loaded = new CUmodule();
            makeCurrent();
            // A cubin, or PTX already ending in the NUL the driver reads it up to: passed as it is.
            check(JCudaDriver.cuModuleLoadData(loaded, image), "cuModuleLoadData(" + choice + ")");
            return loaded;
        }));
    }

    /**
     * The device as tpkernels opened it.
     *
     * @return the device
     */
    public CudaDevice cudaDevice() {
        return cuda;
    }

    /**
     * The JCuda handle of the device.
     *
     * @return the handle
     */
    public CUdevice device() {
        return device;
    }

    /**
     * The JCuda handle of the primary context, the one tpkernels uses.
     *
     * @return the handle, retained for the life of the process
     */
    public CUcontext context() {
        return context;
    }

    @Override
    public String toString() {
        return "JCuda " + cuda;
    }
}
