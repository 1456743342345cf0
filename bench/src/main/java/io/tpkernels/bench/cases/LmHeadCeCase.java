package io.tpkernels.bench.cases;

import io.tpkernels.ops.LmHead;
import io.tpkernels.ops.LmHeadBackward;
import io.tpkernels.ops.LmHeadCrossEntropy;
import io.tpkernels.ops.VocabParallelCrossEntropy;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.MemoryMeter;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.runtime.Tuning;
import io.tpkernels.shard.VocabShard;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The LM head's loss and input gradient, forward and backward, fused ({@link LmHeadCrossEntropy}: on a GPU each tile
 * of logits folded into the loss in the GEMM's epilogue, on the CPU a chunk of columns at a time; recomputed in the
 * backward) against the unfused form (the {@code [T, S]} logits, then {@link VocabParallelCrossEntropy}, then
 * {@link LmHeadBackward}) and, on a GPU, against the chunked form ({@link Tuning.LmHeadLoss#CHUNKED}), on the last rank's shard of LLaMA-3's vocabulary
 * at tp 8 (15808 real rows of S = 16064), BF16. One rank's work: its collectives ({@code O(T)} values) are left out
 * ({@link OneRankOfMany}). Besides the times, each row carries the peak extra memory each form allocated on the
 * device (on the CPU, native memory) during one forward and backward, measured with the allocation meter, beyond the
 * {@code dX} both return, and the bytes of the {@code [T, S]} F32 logits the unfused form holds.
 */
final class LmHeadCeCase implements KernelCase {
    @Override
    public String name() {
        return "lm-head-ce";
    }

    private static long hidden(Bench bench) {
        return bench.quick() ? 64 : bench.isCuda() ? 8192 : 2048;
    }

    private static long[] tokens(Bench bench) {
        if (bench.quick()) {
            return new long[] {40};
        }
        return bench.isCuda() ? new long[] {4096, 32768} : new long[] {512, 4096};
    }

    @Override
    public void measure(Bench bench, Consumer<Result> out) {
        VocabShard shard = Vocab.lastShard(bench);
        long h = hidden(bench);
        var group = new OneRankOfMany(shard.rank(), shard.tpSize());
        // The same stream, so the same stopwatch, with the chunks the epilogue fusion replaces.
        var chunkedExec = bench.exec().withTuning(bench.exec().tuning().withLmHeadLoss(Tuning.LmHeadLoss.CHUNKED));
        try (Tensors weights = bench.tensors(13)) {
            Tensor w = weights.floats(DType.BF16, shard.validRows(), h);
            for (long t : tokens(bench)) {
                try (Tensors mem = bench.tensors(t)) {
                    Tensor x = mem.floats(DType.BF16, t, h);
                    Tensor y = mem.ids(mem.random().longs(t, 0, shard.vocabSize()).toArray());
                    Runnable fused = () -> fusedPass(bench.exec(), group, shard, x, w, y);
                    Runnable chunked = () -> fusedPass(chunkedExec, group, shard, x, w, y);
                    Runnable unfused = () -> {
                        try (Tensor z = LmHead.logits(bench.exec(), x, w, shard.shardSize());
                             VocabParallelCrossEntropy.Forward f = VocabParallelCrossEntropy.forward(bench.exec(), group,
                                     shard, z, y);
                             Tensor dz = VocabParallelCrossEntropy.backward(bench.exec(), f, z, y, 1.0);
                             Tensor dx = LmHeadBackward.inputGradient(bench.exec(), dz, w)) {
                            // freed in the stream's order
                        }
                    };
                    long output = t * h * 4; // dX, F32: what both forms return, not scratch
                    long fusedPeak = peak(bench, fused) - output;
                    long unfusedPeak = peak(bench, unfused) - output;
                    double fusedMs = bench.medianMillis(i -> fused.run());
                    double unfusedMs = bench.medianMillis(i -> unfused.run());
                    List<Result.Baseline> baselines = new ArrayList<>(List.of(new Result.Baseline("unfused", unfusedMs)));
                    if (bench.isCuda()) {
                        baselines.add(new Result.Baseline("chunked", bench.medianMillis(i -> chunked.run())));
                    }
                    long valid = shard.validRows();
                    double bytes = valid * h * 2.0 * 2 + t * h * 2.0 + t * h * 4.0 + t * 8.0;
                    double flops = 3 * 2.0 * t * valid * h; // the logits, again in the backward, then dX
                    Map<String, Object> memory = new LinkedHashMap<>();
                    memory.put("fusedPeakBytes", fusedPeak);
                    memory.put("unfusedPeakBytes", unfusedPeak);
                    memory.put("logitsBytes", t * shard.shardSize() * 4);
                    out.accept(new Result(name(), Result.Role.kernel, bench.backend(), "BF16",
                            Shape.of("T", t).and("H", h).and("S", shard.shardSize()).and("valid", valid), fusedMs,
                            bytes, flops, baselines, memory));
                }
            }
        }
    }

    /** One forward and backward of {@link LmHeadCrossEntropy} on {@code exec}, its outputs freed in stream order. */
    private static void fusedPass(ExecutionContext exec, OneRankOfMany group, VocabShard shard, Tensor x, Tensor w,
                                  Tensor y) {
        try (VocabParallelCrossEntropy.Forward f = LmHeadCrossEntropy.forward(exec, group, shard, x, w, y);
             Tensor dx = LmHeadCrossEntropy.backward(exec, f, x, w, y, 1.0, null)) {
            // freed in the stream's order
        }
    }

    /** The most bytes {@code work} had allocated at once on the bench's device. */
    private static long peak(Bench bench, Runnable work) {
        bench.exec().synchronize();
        try (MemoryMeter meter = MemoryMeter.start()) {
            work.run();
            bench.exec().synchronize();
            return meter.peakBytes(bench.device());
        }
    }
}
