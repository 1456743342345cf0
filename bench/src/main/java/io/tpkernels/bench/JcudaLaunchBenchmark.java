package io.tpkernels.bench;

import io.tpkernels.bench.cases.Tensors;
import io.tpkernels.cuda.sources.KernelNames;
import io.tpkernels.jcuda.JcudaDevice;
import io.tpkernels.jcuda.JcudaKernels;
import io.tpkernels.jcuda.JcudaPointers;
import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.CudaKernel;
import io.tpkernels.runtime.CudaStream;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.KernelArgs;
import io.tpkernels.runtime.Tensor;
import java.util.concurrent.TimeUnit;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The host's cost of one kernel launch, the FFM path against JCuda, like for like: the same kernel (the project's
 * F32 to BF16 cast of one element: one block of 32 threads, three parameters), the same arguments, the same
 * stream (the legacy default), queued without waiting. The GPU retires such a launch in a few microseconds, so the
 * queue keeps up and the time per call is the host's (were the host faster than the GPU, the queue would fill and
 * the time would be the GPU's). Four ways to launch:
 * <ul>
 *   <li>{@code ffm}: {@link CudaKernel#launch}, the project's own path (parameters marshalled into a reused
 *       buffer, one {@code cuLaunchKernel} downcall);</li>
 *   <li>{@code jcudaPrebuiltParams}: JCuda's {@code cuLaunchKernel} with the {@code kernelParams} pointer built
 *       once and reused, JCuda at its cheapest;</li>
 *   <li>{@code jcudaFreshParams}: {@code kernelParams} built with {@code Pointer.to} for each launch, as JCuda code
 *       with changing arguments does;</li>
 *   <li>{@code jcudaInteropLauncher}: {@code tpkernels-jcuda}'s launcher, which also marshals {@link KernelArgs}
 *       into JCuda's parameters and makes the primary context current through JCuda.</li>
 * </ul>
 * Needs a GPU: without one, {@code @Setup} fails with one sentence saying what is missing.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class JcudaLaunchBenchmark {
    private static final String MODULE = KernelNames.MODULE_CAST;
    private static final String KERNEL = KernelNames.TPK_CAST_F32_TO_BF16;

    private Tensors owned;
    private JcudaDevice device;
    private CUfunction function;
    private CudaKernel ffmKernel;
    private CudaStream legacyDefault;
    private long dst;
    private long src;
    private Pointer prebuilt;

    @Setup(Level.Trial)
    public void setUp() {
        device = JcudaDevice.of(0);
        CudaDevice cuda = device.cudaDevice();
        Device gpu = cuda.device();
        function = device.function(MODULE, KERNEL);
        ffmKernel = cuda.modules().kernel(MODULE, KERNEL);
        legacyDefault = CudaStream.legacyDefault(cuda);
        owned = new Tensors(gpu, 0);
        try (Tensor one = Tensor.ofFloats(DType.F32, new float[] {1.5f}, 1)) {
            src = owned.copyOf(one).devicePointer();
        }
        dst = owned.empty(DType.BF16, 1).devicePointer();
        prebuilt = kernelParams();
        device.makeCurrent();
    }

    /** {@code (dst, src, n = 1)}, as cast.cu declares. */
    private Pointer kernelParams() {
        return Pointer.to(Pointer.to(JcudaPointers.toCUdeviceptr(dst)), Pointer.to(JcudaPointers.toCUdeviceptr(src)),
                Pointer.to(new long[] {1}));
    }

    private static KernelArgs args(long dst, long src) {
        return KernelArgs.begin().ptr(dst).ptr(src).i64(1);
    }

    private static void check(int status) {
        if (status != CUresult.CUDA_SUCCESS) {
            throw new IllegalStateException("cuLaunchKernel through JCuda failed: " + CUresult.stringFor(status));
        }
    }

    @Benchmark
    public void ffm() {
        ffmKernel.launch(legacyDefault, 1, 32, 0, args(dst, src));
    }

    @Benchmark
    public void jcudaPrebuiltParams() {
        check(JCudaDriver.cuLaunchKernel(function, 1, 1, 1, 32, 1, 1, 0, null, prebuilt, null));
    }

    @Benchmark
    public void jcudaFreshParams() {
        check(JCudaDriver.cuLaunchKernel(function, 1, 1, 1, 32, 1, 1, 0, null, kernelParams(), null));
    }

    @Benchmark
    public void jcudaInteropLauncher() {
        JcudaKernels.launcher().launch(legacyDefault, MODULE, KERNEL, 1, 32, 0, args(dst, src));
    }

    /** Drains the queue between iterations, so that no iteration pays for the last one's launches. */
    @TearDown(Level.Iteration)
    public void drain() {
        device.cudaDevice().synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (owned != null) { // null where setUp found no GPU
            owned.close();
        }
    }
}
