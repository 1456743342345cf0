package io.tpkernels.ops;

import static io.tpkernels.ops.Gradcheck.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.RandomData;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The vocab-parallel cross-entropy on GPUs against the CPU path, rank by rank of an in-process group: loss and count,
 * and the gradient to f32 rounding with padding columns and ignored rows exactly 0; I64 and I32 targets, ignored
 * targets, a shard without a valid column, every target ignored; and a bad target is an error naming it.
 */
@GpuTest
class VocabParallelCrossEntropyCudaTest {
    private static final long IGNORE = VocabParallelCrossEntropy.IGNORE_INDEX;
    private static final Device GPU = Device.cuda(0);

    private record Rank(VocabShard shard, double loss, long count, float[] dz) {
    }

    /** Forward and backward on {@code tp} ranks, each on {@code device}, of the logits {@code full [T, V]}. */
    private static List<Rank> run(Device device, int tp, int multiple, int vocab, float[] full, long[] targets,
                                  DType targetType, double gradOutput) {
        int tokens = targets.length;
        return LocalGroup.run(tp, group -> {
            VocabShard shard = VocabShard.of(vocab, tp, group.rank(), multiple);
            try (ExecutionContext ctx = device.isCuda() ? ExecutionContext.create(device) : ExecutionContext.cpu();
                 Tensor zHost = Tensor.ofFloats(DType.F32, shardOf(full, tokens, shard), tokens, shard.shardSize());
                 Tensor yHost = Tensor.ofLongs(targetType, targets, tokens);
                 Tensor z = zHost.copyTo(device);
                 Tensor y = yHost.copyTo(device);
                 VocabParallelCrossEntropy.Forward f = VocabParallelCrossEntropy.forward(ctx, group, shard, z, y);
                 Tensor dz = VocabParallelCrossEntropy.backward(ctx, f, z, y, gradOutput)) {
                ctx.synchronize();
                return new Rank(shard, f.loss(), f.count(), dz.toFloatArray());
            }
        });
    }

    /** Rank {@code shard}'s padded logits: its valid columns of {@code full}, then −∞ as the LM head writes. */
    private static float[] shardOf(float[] full, int tokens, VocabShard shard) {
        int s = (int) shard.shardSize();
        int vocab = (int) shard.vocabSize();
        float[] out = new float[tokens * s];
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < s; j++) {
                out[t * s + j] = j < shard.validRows() ? full[t * vocab + (int) shard.start() + j]
                        : Float.NEGATIVE_INFINITY;
            }
        }
        return out;
    }

    /** Random logits times 4 (softmaxes far from uniform), with a tie for the maximum in row 1. */
    private static float[] logits(int tokens, int vocab) {
        return logits(tokens, vocab, 4);
    }

    /** Random logits times {@code scale}, with a tie for the maximum in row 1. */
    private static float[] logits(int tokens, int vocab, float scale) {
        float[] z = RandomData.moderate(7, tokens * vocab);
        for (int i = 0; i < z.length; i++) {
            z[i] *= scale;
        }
        if (tokens > 1 && vocab > 2) {
            z[vocab] = z[vocab + 2] = 7.5f * scale;
        }
        return z;
    }

    private static long[] targets(int tokens, int vocab) {
        long[] y = new long[tokens];
        for (int t = 0; t < tokens; t++) {
            y[t] = t % 4 == 3 ? IGNORE : (t * 7L + 3) % vocab;
        }
        return y;
    }

    @ParameterizedTest(name = "tp={0} multiple={1} V={2} T={3} targets {4}, logits times {5}")
    @CsvSource({
        "2, 8, 37, 9, I64, 4",
        "2, 8, 37, 9, I32, 4",
        "3, 4, 1000, 20, I64, 4",
        "2, 8, 5, 6, I32, 4",     // rank 1 holds no valid column: only padding
        "1, 16, 300, 300, I64, 4", // more rows than blocks: the grid-stride loops
        "2, 8, 37, 9, I64, 1000", // exp overflows but for the row maximum: the maximum must be the true one
    })
    void matchesTheCpu(int tp, int multiple, int vocab, int tokens, DType targetType, float scale) {
        float[] full = logits(tokens, vocab, scale);
        long[] y = targets(tokens, vocab);
        double gradOutput = 0.625;
        List<Rank> cpu = run(Device.CPU, tp, multiple, vocab, full, y, targetType, gradOutput);
        List<Rank> gpu = run(GPU, tp, multiple, vocab, full, y, targetType, gradOutput);
        for (int r = 0; r < tp; r++) {
            Rank want = cpu.get(r);
            Rank got = gpu.get(r);
            assertEquals(want.count(), got.count(), "count on rank " + r);
            assertEquals(want.loss(), got.loss(), 1e-5 * Math.abs(want.loss()), "loss on rank " + r);
            assertClose(want.dz(), got.dz(), 1e-5, "dz on rank " + r);
            int s = (int) got.shard().shardSize();
            for (int t = 0; t < tokens; t++) {
                for (int j = 0; j < s; j++) {
                    if (y[t] == IGNORE || j >= got.shard().validRows()) {
                        assertEquals(0f, got.dz()[t * s + j], "dz[" + t + ", " + j + "] on rank " + r);
                    }
                }
            }
        }
    }

    @Test
    void everyTargetIgnoredGivesANanLossAndZeroGradient() {
        long[] y = {IGNORE, IGNORE, IGNORE};
        for (Rank rank : run(GPU, 2, 8, 37, logits(3, 37), y, DType.I64, 1.0)) {
            assertEquals(0, rank.count());
            assertTrue(Double.isNaN(rank.loss()), "loss " + rank.loss());
            assertClose(new float[rank.dz().length], rank.dz(), 0, "dz");
        }
    }

    @Test
    void aTargetOutsideTheVocabularyIsAnErrorNamingItsPositionAndValue() {
        long[] y = {3, IGNORE, 37, 1};
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> run(GPU, 2, 8, 37, logits(4, 37), y, DType.I32, 1.0));
        String message = String.valueOf(e.getMessage()) + " " + (e.getCause() == null ? "" : e.getCause().getMessage());
        assertTrue(message.contains("target 37 at position 2"), message);
    }
}
