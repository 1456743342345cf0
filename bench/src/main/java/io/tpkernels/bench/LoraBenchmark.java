package io.tpkernels.bench;

import io.tpkernels.bench.cases.RandomTensors;
import io.tpkernels.ops.LmHead;
import io.tpkernels.ops.LoraLinear;
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
 * The CPU path of the fused LoRA linear, {@code y = x·Wᵀ + 2·(x·Aᵀ)·Bᵀ} with {@code K = N}, {@code R = 16}, BF16,
 * next to the base GEMM alone on the same inputs ({@code baseGemmCpu}): the difference is what the LoRA term
 * costs. GFLOP/s = 2·T·(N·K + R·K + N·R) / time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules=jdk.incubator.vector"})
public class LoraBenchmark {
    private static final int RANK = 16;

    @Param({"1", "16", "128"})
    public int tokens;

    @Param({"2048", "4096"})
    public int features;

    private Tensor x;
    private Tensor w;
    private Tensor a;
    private Tensor b;
    private Tensor y;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom r = new SplittableRandom(11);
        x = RandomTensors.floats(DType.BF16, r, tokens, features);
        w = RandomTensors.floats(DType.BF16, r, features, features);
        a = RandomTensors.floats(DType.BF16, r, RANK, features);
        b = RandomTensors.floats(DType.BF16, r, features, RANK);
        y = Tensor.allocate(Device.CPU, DType.BF16, tokens, features);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[] {x, w, a, b, y}) {
            t.close();
        }
    }

    @Benchmark
    public Tensor fusedLoraCpu() {
        LoraLinear.forward(ExecutionContext.cpu(), x, w, a, b, 2f, null, y);
        return y;
    }

    @Benchmark
    public Tensor baseGemmCpu() {
        LmHead.logits(ExecutionContext.cpu(), x, w, y);
        return y;
    }
}
