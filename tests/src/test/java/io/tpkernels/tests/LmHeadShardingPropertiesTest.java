package io.tpkernels.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tpkernels.ops.LmHead;
import io.tpkernels.ops.VocabArgmax;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.testkit.VocabShardSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * docs/contract.md section 5 end to end on the CPU: the ranks' logits, gathered to {@code [T, padded]} with the
 * padding dropped, equal the unsharded {@code [T, V]} logits; the vocab-parallel argmax equals the argmax of
 * the gathered logits (largest value, ties to the smallest id) and never names a padding column.
 */
class LmHeadShardingPropertiesTest {

    @Property(tries = 60)
    void gatheredShardsEqualTheUnshardedHeadAndTheArgmaxAgrees(
            @ForAll @IntRange(min = 1, max = 600) int vocab, @ForAll @IntRange(min = 1, max = 8) int tp,
            @ForAll @IntRange(min = 1, max = 64) int multiple, @ForAll @IntRange(min = 1, max = 12) int tokens,
            @ForAll @IntRange(min = 1, max = 80) int h, @ForAll boolean coarse, @ForAll long seed) {
        VocabShardSpec spec = new VocabShardSpec(vocab, tp, multiple);
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[tokens * h];
        float[] w = new float[vocab * h];
        // Coarse values (small integers) make exact ties likely, so the tie rule is exercised.
        for (int i = 0; i < x.length; i++) {
            x[i] = coarse ? r.nextInt(-2, 3) : (float) r.nextGaussian();
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = coarse ? r.nextInt(-2, 3) : (float) r.nextGaussian();
        }
        try (Tensor xt = Tensor.ofFloats(DType.F32, x, tokens, h);
             Tensor full = Tensor.ofFloats(DType.F32, w, vocab, h);
             Tensor expected = LmHead.logits(ExecutionContext.defaultFor(xt.device()), xt, full, vocab)) {
            float[] e = expected.toFloatArray();
            List<VocabArgmax.Local> locals = new ArrayList<>();
            try {
                for (VocabShard shard : spec.shards()) {
                    long from = Math.min(shard.start(), vocab);
                    Tensor rows = full.rows(from, from + shard.validRows());
                    try (Tensor logits = LmHead.logits(ExecutionContext.defaultFor(xt.device()), xt, rows, shard.shardSize())) {
                        float[] l = logits.toFloatArray();
                        int s = (int) shard.shardSize();
                        for (int t = 0; t < tokens; t++) {
                            for (int j = 0; j < shard.validRows(); j++) {
                                assertEquals(Float.floatToIntBits(e[t * vocab + (int) shard.start() + j]),
                                        Float.floatToIntBits(l[t * s + j]), "token " + t + " id " + (shard.start() + j));
                            }
                        }
                        locals.add(VocabArgmax.local(ExecutionContext.defaultFor(logits.device()), logits, shard.validRows(), shard.start()));
                    }
                }
                long[] ids = VocabArgmax.combine(locals);
                for (int t = 0; t < tokens; t++) {
                    int best = 0;
                    for (int j = 1; j < vocab; j++) {
                        if (e[t * vocab + j] > e[t * vocab + best]) {
                            best = j;
                        }
                    }
                    assertEquals(best, ids[t], "token " + t + " of " + spec);
                }
            } finally {
                locals.forEach(VocabArgmax.Local::close);
            }
        }
    }
}
