package io.tpkernels.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.ops.VocabParallelCrossEntropy;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.layers.weights.InMemoryWeights;
import io.tpkernels.runtime.Tuning;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link ParallelLMHead#lossAndGradient} gives one loss and one input gradient whichever form the context's tuning
 * picks: fused (the default; on a GPU in F16 and BF16 the tile kernels), chunked and the unfused reference, on
 * {@code tp} ranks, with ignored targets and the last id. Loss within 1e-6 relative; the gradient within
 * {@code tolerance} of its largest magnitude, NaN never passing.
 */
class LmHeadLossFormsTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void everyFormGivesTheUnfusedLossAndGradient(int tp) {
        check(Device.CPU, Precision.F32, tp, 300, 24, 37, 1e-5);
    }

    /** Each form's loss and all-reduced input gradient on rank 0, compared with the unfused form's. */
    static void check(Device device, Precision precision, int tp, int vocab, int hidden, int t, double tolerance) {
        long[] targets = new SplittableRandom(vocab).longs(t, 0, vocab).toArray();
        for (int i = 0; i < t; i += 6) {
            targets[i] = VocabParallelCrossEntropy.IGNORE_INDEX;
        }
        targets[t - 1] = vocab - 1;
        DType dtype = precision.dtype();
        try (InMemoryWeights weights = Harness.randomWeights(9, dtype, Map.of("head", new long[] {vocab, hidden}))) {
            float[] x = Harness.drain(Harness.activations(t, dtype, Device.CPU, t, hidden));
            Result unfused = run(device, precision, tp, Tuning.LmHeadLoss.UNFUSED, weights, x, targets, vocab, hidden);
            for (Tuning.LmHeadLoss form : List.of(Tuning.LmHeadLoss.FUSED, Tuning.LmHeadLoss.CHUNKED)) {
                Result got = run(device, precision, tp, form, weights, x, targets, vocab, hidden);
                String what = form + " on " + device + " " + precision + " tp " + tp;
                assertEquals(unfused.count, got.count, what + ": count");
                assertTrue(Math.abs(got.loss - unfused.loss) <= 1e-6 * Math.abs(unfused.loss),
                        what + ": loss " + got.loss + ", unfused " + unfused.loss);
                double scale = 0;
                for (float v : unfused.dx) {
                    scale = Math.max(scale, Math.abs(v));
                }
                for (int i = 0; i < got.dx.length; i++) {
                    assertTrue(!Float.isNaN(got.dx[i]) && Math.abs(got.dx[i] - unfused.dx[i]) <= tolerance * scale,
                            what + ": dx[" + i + "] " + got.dx[i] + ", unfused " + unfused.dx[i]);
                }
            }
        }
    }

    private record Result(double loss, long count, float[] dx) {
    }

    private static Result run(Device device, Precision precision, int tp, Tuning.LmHeadLoss form,
                              InMemoryWeights weights, float[] x, long[] targets, int vocab, int hidden) {
        return Harness.onRanks(tp, device, precision, base -> {
            RankContext ctx = new RankContext(base.tp(), base.exec().withTuning(base.exec().tuning().withLmHeadLoss(form)),
                    precision);
            try (ParallelLMHead head = ParallelLMHead.load(weights, "head", vocab, hidden, 8, ctx);
                 Tensor xh = Tensor.ofFloats(precision.dtype(), x, targets.length, hidden);
                 Tensor yh = Tensor.ofLongs(DType.I64, targets, targets.length);
                 Tensor xd = xh.copyTo(device);
                 Tensor yd = yh.copyTo(device);
                 ParallelLMHead.LossAndGradient r = head.lossAndGradient(xd, yd, count -> 1.0)) {
                return new Result(r.loss().loss(), r.loss().count(), r.inputGradient().toFloatArray());
            }
        }).get(0);
    }
}
