package io.tpkernels.bench;

import io.tpkernels.bench.cases.RandomTensors;
import io.tpkernels.ops.Cast;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.KernelArgs;
import io.tpkernels.runtime.Tensor;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The CPU path of the cast kernel (GB/s = bytes read plus written / time), and the host cost of marshalling
 * a launch's parameters into the reused buffer.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules=jdk.incubator.vector"})
public class CastBenchmark {

    @Param({"4096", "1048576"})
    public int elements;

    @Param({"F32:BF16", "BF16:F32"})
    public String pair;

    private Tensor src;
    private Tensor dst;

    @Setup(Level.Trial)
    public void setUp() {
        String[] p = pair.split(":");
        src = RandomTensors.floats(DType.valueOf(p[0]), new SplittableRandom(1), elements);
        dst = Tensor.allocate(Device.CPU, DType.valueOf(p[1]), elements);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        src.close();
        dst.close();
    }

    @Benchmark
    public Tensor castCpu() {
        Cast.into(ExecutionContext.cpu(), src, dst);
        return dst;
    }

    @Benchmark
    public int marshalLaunchParameters() {
        return KernelArgs.begin().ptr(0x7f00_0000_0000L).ptr(0x7f00_1000_0000L).i64(elements).count();
    }
}
