package io.tpkernels.bench;

import io.tpkernels.bench.cases.RandomTensors;
import io.tpkernels.ops.LmHead;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
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
 * The CPU GEMM behind the LM head (and every CPU GEMM) at 1024³: {@code X[1024, 1024]·W[1024, 1024]ᵀ},
 * F32 logits. GFLOP/s = 2·1024³ / time. Compare with numpy's {@code a @ b.T} on the same machine.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules=jdk.incubator.vector"})
public class GemmBenchmark {

    @Param({"F32", "BF16"})
    public String dtype;

    private Tensor x;
    private Tensor w;
    private Tensor out;

    @Setup(Level.Trial)
    public void setUp() {
        int n = 1024;
        SplittableRandom r = new SplittableRandom(3);
        x = RandomTensors.floats(DType.valueOf(dtype), r, n, n);
        w = RandomTensors.floats(DType.valueOf(dtype), r, n, n);
        out = Tensor.allocate(Device.CPU, DType.F32, n, n);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        x.close();
        w.close();
        out.close();
    }

    @Benchmark
    public Tensor gemm1024() {
        LmHead.logits(ExecutionContext.cpu(), x, w, out);
        return out;
    }
}
