package io.tpkernels.jcuda;

import io.tpkernels.runtime.CudaStream;
import io.tpkernels.runtime.KernelArgs;
import io.tpkernels.runtime.KernelLauncher;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * A {@link KernelLauncher} through JCuda: the kernel from {@link JcudaDevice#function}, its parameters marshalled
 * into JCuda's {@code kernelParams}, and {@code cuLaunchKernel} called through JCuda's JNI binding.
 *
 * <p>Only the legacy default stream can be used: JCuda cannot make a {@code CUstream} from a handle that
 * tpkernels created (its handle constructor is not public), while {@code null} is the same stream on both sides.
 */
final class JcudaLauncher implements KernelLauncher {
    static final JcudaLauncher INSTANCE = new JcudaLauncher();

    private JcudaLauncher() {
    }

    @Override
    public void launch(CudaStream stream, String module, String kernel, int blocks, int threads, int sharedBytes,
                       KernelArgs args) {
        if (stream.handle().address() != 0) {
            throw new IllegalArgumentException("JCuda launch of " + kernel + ": only the legacy default stream is"
                    + " shared with JCuda, not a stream created by tpkernels");
        }
        JcudaDevice device = JcudaDevice.of(stream.device());
        CUfunction function = device.function(module, kernel);
        Pointer params = kernelParams(args);
        device.makeCurrent();
        int status = JCudaDriver.cuLaunchKernel(function, blocks, 1, 1, threads, 1, 1, sharedBytes, null, params, null);
        if (status != CUresult.CUDA_SUCCESS) {
            throw JcudaStatus.failure(status, "cuLaunchKernel(" + kernel + ", blocks=" + blocks + ", threads="
                    + threads + ", sharedBytes=" + sharedBytes + ")");
        }
    }

    /**
     * JCuda's {@code kernelParams}: a pointer to an array of pointers, one to each parameter's value. Every value
     * is handed over as its slot's bytes: a scalar's 8-byte slot, of which the driver reads only the size of that
     * parameter (for a 4-byte {@code int} or {@code float} the first 4 bytes, where {@link KernelArgs} put it), or
     * a by-value struct's bytes.
     */
    static Pointer kernelParams(KernelArgs args) {
        Pointer[] params = new Pointer[args.count()];
        for (int i = 0; i < params.length; i++) {
            params[i] = Pointer.to(args.bytes(i));
        }
        return Pointer.to(params);
    }
}
