package io.tpkernels.ops;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.MemoryMeter;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.testing.RandomData;
import java.util.Arrays;
import java.util.List;

/**
 * One LM head's loss and gradients on {@code tp} ranks, by the fused form ({@link LmHeadCrossEntropy}) or the
 * unfused one (the head's logits, {@link VocabParallelCrossEntropy}, {@link LmHeadBackward}), for the fused form's
 * tests: random {@code X [T, H]} and {@code W [V, H]} (never zero, scaled so that softmaxes are far from uniform),
 * the targets given.
 *
 * @param loss       the loss, the same on every rank
 * @param dx         each rank's partial {@code dX}
 * @param dw         each rank's {@code dW_r}
 * @param peakBytes  each rank's peak bytes allocated on its device during forward and backward
 * @param shardBytes each rank's {@code [T, S]} F32 logits' bytes
 * @param rowMax     each rank's saved row maxima (after the all-reduce MAX)
 */
record FusedLossRun(double loss, long count, List<float[]> dx, List<float[]> dw, List<Long> peakBytes,
                    List<Long> shardBytes, List<float[]> rowMax) {

    /** The problem: sizes, the dtype of X and W, the targets, the padding multiple. */
    record Problem(int t, int h, int vocab, int multiple, DType dtype, long[] targets) {
        float[] x() {
            return RandomData.moderate(41, t * h);
        }

        float[] w() {
            float[] w = RandomData.moderate(42, vocab * h);
            for (int i = 0; i < w.length; i++) {
                w[i] *= 3;
            }
            return w;
        }
    }

    static FusedLossRun run(Problem p, int tp, Device device, boolean fused) {
        return run(p, p.x(), tp, device, fused);
    }

    /** As above, with {@code x} given instead of the problem's. */
    static FusedLossRun run(Problem p, float[] x, int tp, Device device, boolean fused) {
        float[] w = p.w();
        record Rank(double loss, long count, float[] dx, float[] dw, long peak, long shardBytes, float[] rowMax) {
        }
        List<Rank> ranks = LocalGroup.run(tp, group -> {
            VocabShard shard = VocabShard.of(p.vocab(), tp, group.rank(), p.multiple());
            int valid = (int) shard.validRows();
            int first = (int) Math.min(shard.start(), p.vocab()); // an empty shard may start past V
            float[] rows = Arrays.copyOfRange(w, first * p.h(), (first + valid) * p.h());
            try (ExecutionContext ctx = device.isCuda() ? ExecutionContext.create(device) : ExecutionContext.cpu();
                 Tensor xh = Tensor.ofFloats(p.dtype(), x, p.t(), p.h());
                 Tensor wh = Tensor.ofFloats(p.dtype(), rows, valid, p.h());
                 Tensor yh = Tensor.ofLongs(DType.I64, p.targets(), p.t());
                 Tensor xd = xh.copyTo(device);
                 Tensor wd = wh.copyTo(device);
                 Tensor yd = yh.copyTo(device);
                 Tensor dW = Tensor.zeros(ctx, DType.F32, valid, p.h())) {
                ctx.synchronize();
                try (MemoryMeter meter = MemoryMeter.start()) {
                    double loss;
                    long count;
                    float[] dx;
                    float[] rowMax;
                    if (fused) {
                        try (VocabParallelCrossEntropy.Forward f = LmHeadCrossEntropy.forward(ctx, group, shard, xd, wd,
                                yd);
                             Tensor g = LmHeadCrossEntropy.backward(ctx, f, xd, wd, yd, 1.0, dW)) {
                            loss = f.loss();
                            count = f.count();
                            dx = g.toFloatArray();
                            rowMax = f.rowMax().toFloatArray();
                        }
                    } else {
                        try (Tensor z = LmHead.logits(ctx, xd, wd, shard.shardSize());
                             VocabParallelCrossEntropy.Forward f = VocabParallelCrossEntropy.forward(ctx, group, shard,
                                     z, yd);
                             Tensor dz = VocabParallelCrossEntropy.backward(ctx, f, z, yd, 1.0);
                             Tensor g = LmHeadBackward.inputGradient(ctx, dz, wd)) {
                            LmHeadBackward.addWeightGradient(ctx, dz, xd, dW);
                            loss = f.loss();
                            count = f.count();
                            dx = g.toFloatArray();
                            rowMax = f.rowMax().toFloatArray();
                        }
                    }
                    ctx.synchronize();
                    return new Rank(loss, count, dx, dW.toFloatArray(), meter.peakBytes(device),
                            (long) p.t() * shard.shardSize() * 4, rowMax);
                }
            }
        });
        return new FusedLossRun(ranks.get(0).loss(), ranks.get(0).count(), ranks.stream().map(Rank::dx).toList(),
                ranks.stream().map(Rank::dw).toList(), ranks.stream().map(Rank::peak).toList(),
                ranks.stream().map(Rank::shardBytes).toList(), ranks.stream().map(Rank::rowMax).toList());
    }

    /** Random targets of the vocabulary with every {@code ignoreEvery}-th ignored and the last one the last id. */
    static long[] targets(int t, int vocab, int ignoreEvery, long seed) {
        long[] y = new java.util.SplittableRandom(seed).longs(t, 0, vocab).toArray();
        for (int i = 0; i < t; i += ignoreEvery) {
            y[i] = VocabParallelCrossEntropy.IGNORE_INDEX;
        }
        y[t - 1] = vocab - 1;
        return y;
    }
}
