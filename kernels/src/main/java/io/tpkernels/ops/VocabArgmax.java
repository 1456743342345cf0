package io.tpkernels.ops;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The vocab-parallel argmax of the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#6-vocab-parallel-argmax">section 6</a>,
 * without gathering logits: each rank reduces its valid columns to a per-token {@code (max, argmax)} with global ids,
 * and the ranks' results combine by one rule, {@link #beats}: the larger value wins, and equal values go to the smaller
 * global id. Equal is IEEE's, so {@code +0} and {@code −0} tie. A NaN logit is above every number, so that it wins and
 * is seen rather than hidden, and NaNs tie among themselves. Padding columns never take part; a rank without valid
 * columns reports {@code (−∞, Long.MAX_VALUE)}, which loses to any real column.
 */
public final class VocabArgmax {
    /** The id a rank without valid columns reports. */
    public static final long NO_ID = Long.MAX_VALUE;

    private VocabArgmax() {
    }

    /**
     * One rank's per-token result: {@code values} F32 {@code [T]}, {@code ids} I64 {@code [T]} (global ids).
     * Owns both tensors.
     *
     * @param values each token's largest valid logit, F32 {@code [T]}
     * @param ids the global id of that logit, I64 {@code [T]}; {@link #NO_ID} where the rank has no valid column
     */
    public record Local(Tensor values, Tensor ids) implements AutoCloseable {
        @Override
        public void close() {
            values.close();
            ids.close();
        }
    }

    /**
     * Whether {@code (v1, id1)} beats {@code (v2, id2)}: a NaN beats every number; otherwise the larger value, and
     * ties ({@code +0 == −0}, and NaN against NaN) go to the smaller id. {@code argmax.cu}'s {@code tpk_beats} is
     * the same rule.
     *
     * @param v1 the first pair's value
     * @param id1 the first pair's global id
     * @param v2 the second pair's value
     * @param id2 the second pair's global id
     * @return whether the first pair wins
     */
    public static boolean beats(float v1, long id1, float v2, long id2) {
        boolean nan1 = Float.isNaN(v1);
        boolean nan2 = Float.isNaN(v2);
        if (nan1 || nan2) {
            return nan1 != nan2 ? nan1 : id1 < id2;
        }
        return v1 > v2 || (v1 == v2 && id1 < id2);
    }

    /**
     * The argmax of {@code logits} ({@code [T, S]}) over columns {@code [0, valid)}, as global ids
     * {@code start + j}, allocated on {@code ctx} and queued there.
     *
     * @param ctx the context the result is allocated on and the work queued on; the logits live on its device
     * @param logits the rank's logits, {@code [T, S]} F32 or BF16
     * @param valid the shard's valid columns, in {@code [0, S]}
     * @param start the shard's first global id, {@code >= 0}
     * @return the per-token pairs, owned by the caller
     * @throws IllegalArgumentException when the logits' dtype or shape is wrong, {@code valid} or {@code start} does
     *     not fit, or the logits are not on {@code ctx}'s device
     */
    public static Local local(ExecutionContext ctx, Tensor logits, long valid, long start) {
        check(ctx, logits, valid, start);
        long t = logits.dim(0);
        Tensor values = Tensor.allocate(ctx, DType.F32, t);
        Tensor ids = Tensor.allocate(ctx, DType.I64, t);
        try {
            compute(ctx, logits, valid, start, values, ids);
            return new Local(values, ids);
        } catch (RuntimeException e) {
            values.close();
            ids.close();
            throw e;
        }
    }

    /**
     * Queues {@link #local(ExecutionContext, Tensor, long, long)} on {@code ctx} into {@code out}, which the caller
     * owns and may reuse: F32 values and I64 ids of shape {@code [T]}, on the logits' device.
     *
     * @param ctx the context the work is queued on; the logits live on its device
     * @param logits the rank's logits, {@code [T, S]} F32 or BF16
     * @param valid the shard's valid columns, in {@code [0, S]}
     * @param start the shard's first global id, {@code >= 0}
     * @param out the tensors to overwrite
     * @throws IllegalArgumentException when a shape, dtype or device does not fit
     */
    public static void local(ExecutionContext ctx, Tensor logits, long valid, long start, Local out) {
        check(ctx, logits, valid, start);
        long t = logits.dim(0);
        if (out.values().dtype() != DType.F32 || out.values().rank() != 1 || out.values().dim(0) != t
                || out.ids().dtype() != DType.I64 || out.ids().rank() != 1 || out.ids().dim(0) != t
                || !out.values().device().equals(logits.device()) || !out.ids().device().equals(logits.device())) {
            throw new IllegalArgumentException("argmax: out must be F32 and I64 [" + t + "] on " + logits.device()
                    + ", got values " + out.values().describe() + " and ids " + out.ids().describe());
        }
        compute(ctx, logits, valid, start, out.values(), out.ids());
    }

    /**
     * {@link #local(ExecutionContext, Tensor, long, long)} packed into one I64 tensor of {@link #packedLength(long)} elements, so that
     * one collective carries values and ids together: the ids in its first {@code 8T} bytes, the F32 values in the
     * {@code 4T} after them. {@link #unpack} reads it (or any rank's copy of it) back.
     *
     * @param ctx the context the result is allocated on and the work queued on; the logits live on its device
     * @param logits the rank's logits, {@code [T, S]} F32 or BF16
     * @param valid the shard's valid columns, in {@code [0, S]}
     * @param start the shard's first global id, {@code >= 0}
     * @return the packed pairs, I64 {@code [packedLength(T)]}, owned by the caller
     * @throws IllegalArgumentException when the logits' dtype or shape is wrong, {@code valid} or {@code start} does
     *     not fit, or the logits are not on {@code ctx}'s device
     */
    public static Tensor localPacked(ExecutionContext ctx, Tensor logits, long valid, long start) {
        check(ctx, logits, valid, start);
        Tensor packed = Tensor.allocate(ctx, DType.I64, packedLength(logits.dim(0)));
        try (Local views = unpack(packed, logits.dim(0))) {
            compute(ctx, logits, valid, start, views.values(), views.ids());
            return packed;
        } catch (RuntimeException e) {
            packed.close();
            throw e;
        }
    }

    /**
     * The I64 elements of a {@link #localPacked} result for {@code t} tokens: {@code 12t} bytes, rounded up.
     *
     * @param t the number of tokens
     * @return {@code ceil(3t / 2)}
     */
    public static long packedLength(long t) {
        return (3 * t + 1) / 2;
    }

    /**
     * Views of the values and ids in a {@link #localPacked} result for {@code t} tokens; closing them frees nothing.
     *
     * @param packed a packed result, I64 {@code [packedLength(t)]}
     * @param t the number of tokens
     * @return views over {@code packed}, valid while it is open
     * @throws IllegalArgumentException when {@code packed} is not the packed result of {@code t} tokens
     */
    public static Local unpack(Tensor packed, long t) {
        if (packed.dtype() != DType.I64 || packed.rank() != 1 || packed.dim(0) != packedLength(t)) {
            throw new IllegalArgumentException("argmax: a packed result for " + t + " tokens is I64 ["
                    + packedLength(t) + "], got " + packed.describe());
        }
        return new Local(packed.viewBytes(8 * t, DType.F32, t), packed.viewBytes(0, DType.I64, t));
    }

    private static void check(ExecutionContext ctx, Tensor logits, long valid, long start) {
        if ((logits.dtype() != DType.F32 && logits.dtype() != DType.BF16) || logits.rank() != 2) {
            throw new IllegalArgumentException("argmax: logits must be [T, S] F32 or BF16, got " + logits.describe());
        }
        if (valid < 0 || valid > logits.dim(1) || start < 0) {
            throw new IllegalArgumentException("argmax: valid " + valid + " and start " + start
                    + " do not fit logits " + logits.describe());
        }
        ctx.requireOn("argmax", logits);
    }

    /** Into {@code values} and {@code ids} on the logits' device, queued on {@code ctx}. */
    private static void compute(ExecutionContext ctx, Tensor logits, long valid, long start, Tensor values,
                                Tensor ids) {
        if (ctx.isCuda()) {
            VocabArgmaxCuda.run(logits, valid, start, values, ids, ctx);
            ctx.wrote(values);
            ctx.wrote(ids);
        } else {
            cpu(logits, valid, start, values, ids);
        }
    }

    private static void cpu(Tensor logits, long valid, long start, Tensor values, Tensor ids) {
        MemorySegment l = logits.hostSegment();
        long s = logits.dim(1);
        for (long row = 0; row < logits.dim(0); row++) {
            float best = Float.NEGATIVE_INFINITY;
            long bestId = NO_ID;
            for (long j = 0; j < valid; j++) {
                float v = logits.dtype().getFloat(l, row * s + j);
                if (beats(v, start + j, best, bestId)) {
                    best = v;
                    bestId = start + j;
                }
            }
            DType.F32.setFloat(values.hostSegment(), row, best);
            DType.I64.setLong(ids.hostSegment(), row, bestId);
        }
    }

    /**
     * Combines every rank's result (any devices) into host {@code long[T]} token ids.
     *
     * @param ranks every rank's result, of one token count; device results are copied to the host (a host wait)
     * @return the winning global id of each token
     * @throws IllegalArgumentException when {@code ranks} is empty or the ranks' token counts differ
     */
    public static long[] combine(List<Local> ranks) {
        if (ranks.isEmpty()) {
            throw new IllegalArgumentException("argmax: no ranks to combine");
        }
        int t = Math.toIntExact(ranks.get(0).values().numel());
        float[] best = new float[t];
        long[] bestId = new long[t];
        java.util.Arrays.fill(best, Float.NEGATIVE_INFINITY);
        java.util.Arrays.fill(bestId, NO_ID);
        for (Local r : ranks) {
            if (r.values().numel() != t) {
                throw new IllegalArgumentException("argmax: ranks disagree on T: " + t + " and " + r.values().numel());
            }
            try (Tensor v = onHost(r.values()); Tensor i = onHost(r.ids())) {
                for (int row = 0; row < t; row++) {
                    float value = DType.F32.getFloat(v.hostSegment(), row);
                    long id = DType.I64.getLong(i.hostSegment(), row);
                    if (beats(value, id, best[row], bestId[row])) {
                        best[row] = value;
                        bestId[row] = id;
                    }
                }
            }
        }
        return bestId;
    }

    /**
     * The global argmax from every rank's {@link #localPacked} result as an all-gather along dimension 0 returns them
     * ({@code [ranks·packedLength(t)]} I64, rank order), read back to the host in one copy.
     *
     * @param gathered the ranks' packed results concatenated in rank order, I64 {@code [ranks·packedLength(t)]}
     * @param ranks the number of ranks, at least 1
     * @param t the number of tokens
     * @return the winning global id of each token, the same on every rank that gathered the same tensor
     * @throws IllegalArgumentException when {@code gathered} does not hold {@code ranks} packed results of {@code t}
     *     tokens
     */
    public static long[] combineGathered(Tensor gathered, int ranks, long t) {
        long n = packedLength(t);
        if (gathered.dtype() != DType.I64 || gathered.rank() != 1 || ranks < 1 || gathered.dim(0) != ranks * n) {
            throw new IllegalArgumentException("argmax: " + ranks + " gathered results for " + t + " tokens are I64 ["
                    + ranks * n + "], got " + gathered.describe());
        }
        try (Tensor host = onHost(gathered)) {
            List<Local> all = new ArrayList<>(ranks);
            for (int r = 0; r < ranks; r++) {
                all.add(unpack(host.rows(r * n, (r + 1) * n), t)); // views of the one host copy
            }
            return combine(all);
        }
    }

    /** {@code t} itself (as a view that frees nothing when closed) on the host, or a host copy of a device tensor. */
    private static Tensor onHost(Tensor t) {
        return t.device().isCuda() ? t.copyTo(Device.CPU) : t.reshape(t.shape());
    }
}
