package io.tpkernels.bench;

import io.tpkernels.cuda.sources.KernelNames;
import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.CudaKernel;
import io.tpkernels.runtime.CudaStream;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.KernelArgs;
import io.tpkernels.runtime.Tensor;
import java.util.concurrent.TimeUnit;
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
 * The host cost of a launch through the FFM path, {@link CudaKernel#launch}: marshalling the parameters into the
 * reused buffer and one {@code cuLaunchKernel} downcall, on a one-block cast of one element so that the device
 * side costs next to nothing. {@code launch} is the host time per launch while the GPU keeps up;
 * {@code launchAndSynchronize} the round trip of a launch and a wait for it. Needs a GPU: without one its
 * setup fails with one sentence saying so. {@link JcudaLaunchBenchmark} times the same launch beside JCuda's.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules=jdk.incubator.vector"})
public class LaunchOverheadBenchmark {

    private CudaStream stream;
    private CudaKernel kernel;
    private Tensor src;
    private Tensor dst;
    private long srcPointer;
    private long dstPointer;

    @Setup(Level.Trial)
    public void setUp() {
        if (CudaDevice.count() == 0) {
            throw new IllegalStateException("LaunchOverheadBenchmark needs a CUDA GPU and none was found ("
                    + CudaDriver.unavailableReason().orElse("the CUDA driver reports no devices") + ").");
        }
        CudaDevice device = CudaDevice.of(0);
        stream = CudaStream.create(device);
        kernel = device.modules().kernel(KernelNames.MODULE_CAST, KernelNames.TPK_CAST_F32_TO_BF16);
        src = Tensor.zeros(device.device(), DType.F32, 1);
        dst = Tensor.allocate(device.device(), DType.BF16, 1);
        srcPointer = src.devicePointer();
        dstPointer = dst.devicePointer();
    }

    @TearDown(Level.Iteration)
    public void drain() {
        stream.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        stream.close();
        src.close();
        dst.close();
    }

    @Benchmark
    public void launch() {
        kernel.launch(stream, 1, 32, 0, KernelArgs.begin().ptr(dstPointer).ptr(srcPointer).i64(1));
    }

    @Benchmark
    public void launchAndSynchronize() {
        launch();
        stream.synchronize();
    }
}
