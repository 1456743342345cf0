package io.tpkernels.bench;

import io.tpkernels.gpu.CudaDevice;
import io.tpkernels.gpu.CudaStream;
import io.tpkernels.gpu.KernelArgs;
import io.tpkernels.jcuda.JcudaDevice;
import io.tpkernels.jcuda.JcudaKernels;
import io.tpkernels.jcuda.JcudaPointers;
import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Device;
import io.tpkernels.tensor.Tensor;
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
 * The host's cost of one kernel launch through JCuda: {@code cuLaunchKernel} through JCuda's JNI binding, queued
 * without waiting. The kernel is the project's embedding lookup on the smallest real input (one token, one 16-byte
 * F32 row, one block of 32 threads), nine parameters, on the legacy default stream; the GPU retires such a launch
 * in a few microseconds, so the queue keeps up and the time per call is the host's (were the host faster than the
 * GPU, the queue would fill and the time would be the GPU's). Three ways to launch:
 * <ul>
 *   <li>{@code prebuiltParams}: the {@code kernelParams} pointer built once and reused, JCuda at its cheapest;</li>
 *   <li>{@code freshParams}: {@code kernelParams} built with {@code Pointer.to} for each launch, as JCuda code
 *       with changing arguments does;</li>
 *   <li>{@code interopLauncher}: {@code tpkernels-jcuda}'s launcher, which also marshals {@link KernelArgs} into
 *       JCuda's parameters and makes the primary context current through JCuda.</li>
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
    private static final String KERNEL = "tpk_embedding_w16_i32";

    private final Owned owned = new Owned();
    private JcudaDevice device;
    private CUfunction function;
    private CudaStream legacyDefault;
    private long out;
    private long weight;
    private long ids;
    private long flag;
    private Pointer prebuilt;

    @Setup(Level.Trial)
    public void setUp() {
        device = JcudaDevice.of(0);
        CudaDevice cuda = device.cudaDevice();
        Device gpu = cuda.device();
        function = device.function("embedding", KERNEL);
        legacyDefault = CudaStream.legacyDefault(cuda);
        // ids = [1]: row 1 of a two-row shard, gathered; the flag stays at "no bad id" (all bits set).
        ids = owned.add(owned.add(Tensor.ofLongs(DType.I32, new long[] {1}, 1)).copyTo(gpu)).devicePointer();
        weight = owned.add(owned.add(Tensor.ofFloats(DType.F32, new float[] {0.5f, -1.25f, 2f, -3.5f, 4.75f, -6f, 7.5f,
                -8.25f}, 2, 4)).copyTo(gpu)).devicePointer();
        out = owned.add(Tensor.allocate(gpu, DType.F32, 1, 4)).devicePointer();
        Tensor flagWord = owned.add(Tensor.allocate(gpu, DType.I64, 1));
        flagWord.fillBytes((byte) 0xFF);
        flag = flagWord.devicePointer();
        prebuilt = kernelParams();
        device.makeCurrent();
    }

    /** {@code (out, weight, ids, tokens=1, start=0, valid=2, vocab=2, rowWords=1, bad)}, as embedding.cu declares. */
    private Pointer kernelParams() {
        return Pointer.to(Pointer.to(JcudaPointers.toCUdeviceptr(out)), Pointer.to(JcudaPointers.toCUdeviceptr(weight)),
                Pointer.to(JcudaPointers.toCUdeviceptr(ids)), Pointer.to(new long[] {1}), Pointer.to(new long[] {0}),
                Pointer.to(new long[] {2}), Pointer.to(new long[] {2}), Pointer.to(new long[] {1}),
                Pointer.to(JcudaPointers.toCUdeviceptr(flag)));
    }

    private static void check(int status) {
        if (status != CUresult.CUDA_SUCCESS) {
            throw new IllegalStateException("cuLaunchKernel through JCuda failed: " + CUresult.stringFor(status));
        }
    }

    @Benchmark
    public void prebuiltParams() {
        check(JCudaDriver.cuLaunchKernel(function, 1, 1, 1, 32, 1, 1, 0, null, prebuilt, null));
    }

    @Benchmark
    public void freshParams() {
        check(JCudaDriver.cuLaunchKernel(function, 1, 1, 1, 32, 1, 1, 0, null, kernelParams(), null));
    }

    @Benchmark
    public void interopLauncher() {
        JcudaKernels.launcher().launch(legacyDefault, "embedding", KERNEL, 1, 32, 0,
                KernelArgs.begin().ptr(out).ptr(weight).ptr(ids).i64(1).i64(0).i64(2).i64(2).i64(1).ptr(flag));
    }

    /** Drains the queue between iterations, so that no iteration pays for the last one's launches. */
    @TearDown(Level.Iteration)
    public void drain() {
        device.cudaDevice().synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        owned.close();
    }
}
