package io.tpkernels.ops;

import static io.tpkernels.ops.VocabParallelCrossEntropy.IGNORE_INDEX;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Memory;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;
import java.lang.foreign.MemorySegment;

/**
 * The CPU pieces of {@link VocabParallelCrossEntropy}, between and after its collectives. Only a rank's valid
 * columns {@code j < valid} are read; padding columns are never read and get a gradient of exactly 0.
 */
final class VocabParallelCrossEntropyCpu {
    private VocabParallelCrossEntropyCpu() {
    }

    /** {@code N}, the non-ignored targets; throws at the first target outside {@code [0, V)} that is not ignored. */
    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    static long countTargets(Tensor targets, long vocabSize) {
        try (Memory.Access use = targets.acquire()) {
            MemorySegment y = targets.hostSegment();
            long count = 0;
            for (long t = 0; t < targets.dim(0); t++) {
                long id = targets.dtype().getLong(y, t);
                if (id == IGNORE_INDEX) {
                    continue;
                }
                if (id < 0 || id >= vocabSize) {
                    throw VocabParallelCrossEntropy.badTarget(t, id, vocabSize);
                }
                count++;
            }
            return count;
        }
    }

    /** {@code out[t] = max_{j < valid} z[t, j]} as {@link Math#max} (a NaN wins); {@code −∞} when {@code valid = 0}. */
    @SuppressWarnings("try")
    static void rowMax(Tensor logits, long valid, Tensor out) {
        try (Memory.Access use = Tensor.acquireAll(logits, out)) {
            MemorySegment z = logits.hostSegment();
            MemorySegment m = out.hostSegment();
            long s = logits.dim(1);
            for (long t = 0; t < logits.dim(0); t++) {
                float max = Float.NEGATIVE_INFINITY;
                for (long j = 0; j < valid; j++) {
                    max = Math.max(max, DType.F32.getFloat(z, t * s + j));
                }
                DType.F32.setFloat(m, t, max);
            }
        }
    }

    /**
     * {@code packed[t] = (ties, rest, target)}: {@code ties} the valid columns equal to {@code M_t} (each adds
     * {@code exp(0) = 1}, counted exactly), {@code rest = Σ_{z_tj < M_t} exp(z_tj − M_t)} in double rounded once, and
     * {@code z_{t, y_t}} if this rank holds {@code y_t}, else 0. Keeping the ones apart from the rest keeps
     * {@code log(ties + rest)} accurate to its last bits when the target is the maximum and the loss is small.
     * {@code (0, 0, 0)} for an ignored token, which the loss and the gradient skip.
     */
    @SuppressWarnings("try")
    static void sumAndTarget(Tensor logits, Tensor targets, VocabShard shard, Tensor rowMax, Tensor packed) {
        sumAndTarget(logits, targets, shard.start(), shard.validRows(), rowMax, packed);
    }

    /** As above, for logits whose columns are global ids {@code start + j}, the first {@code valid} of them real. */
    @SuppressWarnings("try")
    static void sumAndTarget(Tensor logits, Tensor targets, long start, long valid, Tensor rowMax, Tensor packed) {
        try (Memory.Access use = Tensor.acquireAll(logits, targets, rowMax, packed)) {
            MemorySegment z = logits.hostSegment();
            MemorySegment y = targets.hostSegment();
            MemorySegment m = rowMax.hostSegment();
            MemorySegment p = packed.hostSegment();
            long s = logits.dim(1);
            for (long t = 0; t < logits.dim(0); t++) {
                long id = targets.dtype().getLong(y, t);
                long ties = 0;
                double rest = 0;
                float target = 0;
                if (id != IGNORE_INDEX) {
                    float max = DType.F32.getFloat(m, t);
                    for (long j = 0; j < valid; j++) {
                        float v = DType.F32.getFloat(z, t * s + j);
                        if (v == max) {
                            ties++;
                        } else {
                            rest += Math.exp((double) v - max); // NaN when the maximum is NaN or infinite
                        }
                    }
                    if (id >= start && id < start + valid) {
                        target = DType.F32.getFloat(z, t * s + (id - start));
                    }
                }
                DType.F32.setFloat(p, 3 * t, ties);
                DType.F32.setFloat(p, 3 * t + 1, (float) rest);
                DType.F32.setFloat(p, 3 * t + 2, target);
            }
        }
    }

    /**
     * The fused form's fold of one chunk of columns into the running statistics: {@code (runMax, runPacked)} and
     * {@code (max, packed)} each hold a row's maximum and {@code (ties, rest, target)} against it; afterwards the
     * running ones hold those of both column sets, against the larger maximum: ties and rest added where the two
     * maxima are equal, else the smaller side's {@code ties + rest} scaled by {@code exp(m_small − m_large)} into the
     * rest (double, rounded once); the target logits added (at most one side holds the target). A NaN maximum gives NaN.
     */
    @SuppressWarnings("try")
    static void merge(Tensor runMax, Tensor runPacked, Tensor max, Tensor packed) {
        try (Memory.Access use = Tensor.acquireAll(runMax, runPacked, max, packed)) {
            MemorySegment rm = runMax.hostSegment();
            MemorySegment rp = runPacked.hostSegment();
            MemorySegment cm = max.hostSegment();
            MemorySegment cp = packed.hostSegment();
            for (long t = 0; t < runMax.dim(0); t++) {
                float a = DType.F32.getFloat(rm, t);
                float b = DType.F32.getFloat(cm, t);
                double aTies = DType.F32.getFloat(rp, 3 * t);
                double aRest = DType.F32.getFloat(rp, 3 * t + 1);
                double bTies = DType.F32.getFloat(cp, 3 * t);
                double bRest = DType.F32.getFloat(cp, 3 * t + 1);
                float target = DType.F32.getFloat(rp, 3 * t + 2) + DType.F32.getFloat(cp, 3 * t + 2);
                float m;
                double ties;
                double rest;
                if (Float.isNaN(a) || Float.isNaN(b)) {
                    m = Float.NaN;
                    ties = 0;
                    rest = Double.NaN;
                } else if (a == b) {
                    m = a;
                    ties = aTies + bTies;
                    rest = aRest + bRest;
                } else if (a > b) {
                    m = a;
                    ties = aTies;
                    rest = aRest + (bTies + bRest) * Math.exp((double) b - a);
                } else {
                    m = b;
                    ties = bTies;
                    rest = bRest + (aTies + aRest) * Math.exp((double) a - b);
                }
                DType.F32.setFloat(rm, t, m);
                DType.F32.setFloat(rp, 3 * t, (float) ties);
                DType.F32.setFloat(rp, 3 * t + 1, (float) rest);
                DType.F32.setFloat(rp, 3 * t + 2, target);
            }
        }
    }

    /**
     * The fused form's step between its collectives: {@code packed[t] = (ties, rest, target)} was taken against this
     * rank's own maximum {@code localMax[t]}; against the global {@code rowMax[t]} it is {@code (ties, rest)} where
     * the two are equal, else {@code (0, (ties + rest)·exp(m − M))} in double rounded once (a NaN maximum gives NaN).
     */
    @SuppressWarnings("try")
    static void rebase(Tensor localMax, Tensor rowMax, Tensor packed) {
        try (Memory.Access use = Tensor.acquireAll(localMax, rowMax, packed)) {
            MemorySegment local = localMax.hostSegment();
            MemorySegment global = rowMax.hostSegment();
            MemorySegment p = packed.hostSegment();
            for (long t = 0; t < rowMax.dim(0); t++) {
                float m = DType.F32.getFloat(local, t);
                float max = DType.F32.getFloat(global, t);
                if (m == max) {
                    continue; // this rank holds the maximum: its ties are the row's
                }
                double both = (double) DType.F32.getFloat(p, 3 * t) + DType.F32.getFloat(p, 3 * t + 1);
                DType.F32.setFloat(p, 3 * t, 0f);
                DType.F32.setFloat(p, 3 * t + 1, (float) (both * Math.exp((double) m - max)));
            }
        }
    }

    /**
     * The mean of {@code loss_t = log(ties_t + rest_t) + (M_t − z_{t, y_t})} over the {@code count} non-ignored tokens,
     * in double and in token order (NaN when {@code count = 0}); copies {@code (ties, rest)} into {@code sumExp}.
     */
    @SuppressWarnings("try")
    static double meanLoss(Tensor targets, Tensor rowMax, Tensor packed, Tensor sumExp, long count) {
        try (Memory.Access use = Tensor.acquireAll(targets, rowMax, packed, sumExp)) {
            MemorySegment y = targets.hostSegment();
            MemorySegment m = rowMax.hostSegment();
            MemorySegment p = packed.hostSegment();
            MemorySegment out = sumExp.hostSegment();
            double total = 0;
            for (long t = 0; t < targets.dim(0); t++) {
                float ties = DType.F32.getFloat(p, 3 * t);
                float rest = DType.F32.getFloat(p, 3 * t + 1);
                DType.F32.setFloat(out, 2 * t, ties);
                DType.F32.setFloat(out, 2 * t + 1, rest);
                if (targets.dtype().getLong(y, t) != IGNORE_INDEX) {
                    double max = DType.F32.getFloat(m, t);
                    double target = DType.F32.getFloat(p, 3 * t + 2);
                    total += Math.log((double) ties + rest) + (max - target);
                }
            }
            return count == 0 ? Double.NaN : total / count;
        }
    }

    /**
     * {@code dz[t, j] = g·(exp(z_tj − M_t)/(ties_t + rest_t) − [start + j = y_t]) / N} for the valid columns of a
     * non-ignored token, in double rounded once; the target's {@code softmax − 1} as
     * {@code ((exp(z − M) − ties) − rest)/(ties + rest)}, so that a probability near 1 keeps the relative accuracy of
     * {@code 1 − softmax}. Exactly {@code 0} in padding columns, in ignored rows, and everywhere when {@code N = 0}.
     */
    @SuppressWarnings("try")
    static void gradient(Tensor logits, Tensor targets, VocabParallelCrossEntropy.Forward saved, double gradOutput,
                         Tensor dz) {
        gradient(logits, targets, saved, gradOutput, dz, saved.shard().start(), saved.shard().validRows());
    }

    /**
     * As {@link #gradient(Tensor, Tensor, VocabParallelCrossEntropy.Forward, double, Tensor)} for logits whose columns
     * are global ids {@code start + j}, the first {@code valid} of them real: a shard, or a chunk of a shard's columns.
     */
    @SuppressWarnings("try")
    static void gradient(Tensor logits, Tensor targets, VocabParallelCrossEntropy.Forward saved, double gradOutput,
                         Tensor dz, long start, long valid) {
        try (Memory.Access use = Tensor.acquireAll(logits, targets, saved.rowMax(), saved.sumExp(), dz)) {
            MemorySegment z = logits.hostSegment();
            MemorySegment y = targets.hostSegment();
            MemorySegment m = saved.rowMax().hostSegment();
            MemorySegment sums = saved.sumExp().hostSegment();
            MemorySegment out = dz.hostSegment();
            long s = logits.dim(1);
            double scale = saved.count() == 0 ? 0 : gradOutput / saved.count();
            for (long t = 0; t < logits.dim(0); t++) {
                long id = targets.dtype().getLong(y, t);
                boolean live = id != IGNORE_INDEX && saved.count() > 0;
                double max = DType.F32.getFloat(m, t);
                double ties = DType.F32.getFloat(sums, 2 * t);
                double rest = DType.F32.getFloat(sums, 2 * t + 1);
                double sum = ties + rest;
                long hot = live && id >= start && id < start + valid ? id - start : -1;
                for (long j = 0; j < s; j++) {
                    float g = 0f;
                    if (live && j < valid) {
                        double e = Math.exp(DType.F32.getFloat(z, t * s + j) - max);
                        // softmax − 1 as ((e − ties) − rest)/sum: exact cancellation when the target is the maximum
                        g = (float) (scale * (j == hot ? ((e - ties) - rest) / sum : e / sum));
                    }
                    DType.F32.setFloat(out, t * s + j, g);
                }
            }
        }
    }
}
