package io.tpkernels.bench;

import io.tpkernels.bench.cases.RandomTensors;
import io.tpkernels.bench.cases.Vocab;
import io.tpkernels.ops.VocabArgmax;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;
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
 * The CPU path of the vocab-parallel argmax over the last rank's logits {@code [T, 16064]} (15808 valid columns
 * of LLaMA-3's vocabulary over tp 8), as a decode step calls it: the result tensors are allocated per call.
 * GB/s = T·15808·(4 or 2) / time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules=jdk.incubator.vector"})
public class ArgmaxBenchmark {

    @Param({"1", "128"})
    public int tokens;

    @Param({"F32", "BF16"})
    public String dtype;

    private VocabShard shard;
    private Tensor logits;

    @Setup(Level.Trial)
    public void setUp() {
        shard = Vocab.lastShard();
        logits = RandomTensors.floats(DType.valueOf(dtype), new SplittableRandom(5), tokens, shard.shardSize());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        logits.close();
    }

    @Benchmark
    public long argmaxCpu() {
        try (VocabArgmax.Local local = VocabArgmax.local(ExecutionContext.cpu(), logits, shard.validRows(), shard.start())) {
            return DType.I64.getLong(local.ids().hostSegment(), 0);
        }
    }
}
