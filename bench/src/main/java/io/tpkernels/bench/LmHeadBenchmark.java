package io.tpkernels.bench;

import io.tpkernels.bench.cases.RandomTensors;
import io.tpkernels.bench.cases.Vocab;
import io.tpkernels.ops.LmHead;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
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
 * The CPU path of the vocab-padded LM head on the last rank of LLaMA-3's vocabulary over tp 8, the rank with
 * padding (15808 real rows of S = 16064): {@code X[T, H]·W[15808, H]ᵀ} into F32 logits {@code [T, 16064]}, BF16
 * inputs. GFLOP/s = 2·T·15808·H / time; at T = 1 the time is reading W (GB/s = 2·15808·H / time).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules=jdk.incubator.vector"})
public class LmHeadBenchmark {

    @Param({"1", "16", "128"})
    public int tokens;

    @Param({"2048", "4096"})
    public int hidden;

    private Tensor x;
    private Tensor weight;
    private Tensor logits;

    @Setup(Level.Trial)
    public void setUp() {
        VocabShard shard = Vocab.lastShard();
        SplittableRandom r = new SplittableRandom(7);
        x = RandomTensors.floats(DType.BF16, r, tokens, hidden);
        weight = RandomTensors.floats(DType.BF16, r, shard.validRows(), hidden);
        logits = Tensor.allocate(Device.CPU, DType.F32, tokens, shard.shardSize());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        x.close();
        weight.close();
        logits.close();
    }

    @Benchmark
    public Tensor paddedLogitsCpu() {
        LmHead.logits(ExecutionContext.cpu(), x, weight, logits);
        return logits;
    }
}
