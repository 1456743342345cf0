package io.tpkernels.bench;

import io.tpkernels.bench.cases.RandomTensors;
import io.tpkernels.bench.cases.Vocab;
import io.tpkernels.ops.EmbeddingLookup;
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
 * The CPU path of the masked vocab-parallel lookup on the shapes: vocab 128256 over tp 8 (rank 0's
 * shard of 16064 rows), BF16, ids uniform over the whole vocabulary (so about 1 in 8 is gathered, the rest
 * zero-filled). {@code tpk bench --backend cuda} times the same shapes on a GPU.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules=jdk.incubator.vector", "-Xmx8g"})
public class EmbeddingBenchmark {
    @Param({"1", "128", "8192", "32768"})
    public int tokens;

    @Param({"4096", "8192"})
    public int hidden;

    private Tensor ids;
    private Tensor weight;
    private Tensor out;
    private VocabShard shard;

    @Setup(Level.Trial)
    public void setUp() {
        shard = Vocab.firstShard();
        SplittableRandom r = new SplittableRandom(1);
        ids = Tensor.ofLongs(DType.I32, r.longs(tokens, 0, Vocab.LLAMA3).toArray(), tokens);
        weight = RandomTensors.floats(DType.BF16, r, shard.validRows(), hidden);
        out = Tensor.allocate(Device.CPU, DType.BF16, tokens, hidden);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        ids.close();
        weight.close();
        out.close();
    }

    @Benchmark
    public Tensor maskedLookupCpu() {
        EmbeddingLookup.masked(ExecutionContext.cpu(), ids, weight, shard.start(), shard.validRows(), shard.vocabSize(), out);
        return out;
    }
}
