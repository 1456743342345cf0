package io.tpkernels.bench.verify;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.ops.LmHead;
import io.tpkernels.ops.LmHeadBackward;
import io.tpkernels.ops.LmHeadCrossEntropy;
import io.tpkernels.ops.VocabParallelCrossEntropy;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.runtime.Tuning;
import io.tpkernels.shard.VocabShard;
import java.util.List;

/**
 * The LM head's loss and its gradients on the device ({@code LmHeadCrossEntropy}: the tile kernels of lm_head_ce.cu
 * for F16 and BF16, the chunked form for F32 and by tuning) against the CPU's unfused form (the logits, the
 * vocab-parallel cross-entropy, the head's backward), on one rank holding the whole vocabulary, with ignored targets
 * and the last id. The deviation is the largest of the loss's relative one and those of {@code dX} and {@code dW}
 * relative to each tensor's largest magnitude; the tile kernels round {@code dz} to the input dtype before its
 * products, so their tolerance is that dtype's.
 */
final class LossChecks {
    private LossChecks() {
    }

    static List<Check> checks(ExecutionContext gpu, boolean quick) {
        int t = quick ? 130 : 1000;
        int h = quick ? 72 : 520;
        long vocab = quick ? 600 : 20000;
        return List.of(
                new Check("lm-head loss tiles", () -> loss(gpu, DType.BF16, Tuning.LmHeadLoss.FUSED, t, h, vocab)),
                new Check("lm-head loss tiles", () -> loss(gpu, DType.F16, Tuning.LmHeadLoss.FUSED, t, h, vocab)),
                new Check("lm-head loss chunked", () -> loss(gpu, DType.BF16, Tuning.LmHeadLoss.CHUNKED, t, h, vocab)),
                new Check("lm-head loss chunked", () -> loss(gpu, DType.F32, Tuning.LmHeadLoss.FUSED, t, h, vocab)));
    }

    private static VerifyRow loss(ExecutionContext gpu, DType dtype, Tuning.LmHeadLoss form, int t, int h, long vocab) {
        boolean tiles = form == Tuning.LmHeadLoss.FUSED && dtype != DType.F32;
        String path = tiles ? "lm-head loss tiles" : "lm-head loss chunked";
        String kernel = tiles ? "tpk_lmhead_ce_*" : "gemm + tpk_ce_*";
        String shape = "T=" + t + " H=" + h + " V=" + vocab;
        double tolerance = switch (dtype) {
            case BF16 -> tiles ? 1e-2 : 1e-5;
            case F16 -> tiles ? 2e-3 : 1e-5;
            default -> 1e-5;
        };
        ExecutionContext exec = gpu.withTuning(gpu.tuning().withLmHeadLoss(form));
        VocabShard shard = VocabShard.of(vocab, 1, 0, 8);
        try (Operands ops = new Operands(gpu.device(), 17 + dtype.ordinal() * 3L + form.ordinal())) {
            // Logits of a few units: softmaxes neither uniform nor one-hot.
            Tensor x = ops.keep(Tensor.ofFloats(dtype, spread(ops, t * h, 1.0 / Math.sqrt(h)), t, h));
            Tensor w = ops.keep(Tensor.ofFloats(dtype, spread(ops, Math.toIntExact(vocab * h), 3.0), vocab, h));
            Tensor y = ops.keep(Tensor.ofLongs(DType.I64, targets(ops, t, vocab), t));
            List<double[]> results = LocalGroup.run(1, group -> {
                ExecutionContext cpu = ExecutionContext.cpu();
                try (Tensor z = LmHead.logits(cpu, x, w, shard.shardSize());
                     VocabParallelCrossEntropy.Forward want = VocabParallelCrossEntropy.forward(cpu, group, shard, z, y);
                     Tensor dz = VocabParallelCrossEntropy.backward(cpu, want, z, y, 1.0);
                     Tensor wantDx = LmHeadBackward.inputGradient(cpu, dz, w);
                     Tensor wantDw = Tensor.zeros(cpu, DType.F32, vocab, h);
                     Tensor xd = x.copyTo(gpu.device());
                     Tensor wd = w.copyTo(gpu.device());
                     Tensor yd = y.copyTo(gpu.device());
                     Tensor gotDw = Tensor.zeros(exec, DType.F32, vocab, h);
                     VocabParallelCrossEntropy.Forward got = LmHeadCrossEntropy.forward(exec, group, shard, xd, wd, yd);
                     Tensor gotDx = LmHeadCrossEntropy.backward(exec, got, xd, wd, yd, 1.0, gotDw)) {
                    LmHeadBackward.addWeightGradient(cpu, dz, x, wantDw);
                    double lossError = Math.abs(got.loss() - want.loss()) / Math.abs(want.loss());
                    return new double[] {Double.isNaN(got.loss()) ? Double.NaN : lossError,
                            Deviation.relative(wantDx.toFloatArray(), gotDx.toFloatArray()),
                            Deviation.relative(wantDw.toFloatArray(), gotDw.toFloatArray())};
                }
            });
            double[] e = results.get(0);
            double worst = Double.isNaN(e[0]) || Double.isNaN(e[1]) || Double.isNaN(e[2]) ? Double.NaN
                    : Math.max(e[0], Math.max(e[1], e[2]));
            return VerifyRow.measured(path, kernel, shape, dtype.toString(), worst, tolerance);
        }
    }

    /** Uniform in {@code ±scale·[0.5, 2)}: never zero. */
    private static float[] spread(Operands ops, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            double m = 0.5 + 1.5 * ops.random().nextDouble();
            v[i] = (float) (scale * (ops.random().nextBoolean() ? m : -m));
        }
        return v;
    }

    /** Uniform ids, every seventh ignored, the last one the last id. */
    private static long[] targets(Operands ops, int t, long vocab) {
        long[] y = new long[t];
        for (int i = 0; i < t; i++) {
            y[i] = i % 7 == 3 ? VocabParallelCrossEntropy.IGNORE_INDEX : ops.random().nextLong(vocab);
        }
        y[t - 1] = vocab - 1;
        return y;
    }
}
