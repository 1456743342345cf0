package io.tpkernels.ops;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.KernelLauncher;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;

/**
 * The embedding lookups of the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#4-embedding">section 4</a>, one entry
 * point for both backends.
 * <ul>
 *   <li><b>Vocab-parallel (masked):</b> {@code out[t,:] = W_r[ids[t] − start, :]} if
 *       {@code start ≤ ids[t] < start + valid}, else {@code 0}. {@code W_r} holds only the shard's valid rows;
 *       summing the outputs of all ranks gives the unsharded lookup bit for bit.</li>
 *   <li><b>Hidden-parallel:</b> {@code W} holds all {@code V} rows and a slice of the columns; the plain lookup
 *       {@code out[t,:] = W[ids[t], :]} (what the masked one computes with {@code start = 0, valid = V}; on a GPU
 *       its own kernel, the masked one with the shard compare and zero-fill compiled out).</li>
 * </ul>
 * An id {@code < 0} or {@code ≥ V} is an {@link IllegalArgumentException} naming the first offending position
 * and its value, on both backends; the output is then not valid (on the CPU it is left untouched). On the CPU it is
 * thrown by the call; on a GPU the kernel reports it through a device flag that the context reads as a deferred
 * check ({@link ExecutionContext#defer}): at the context's next synchronization or host read of any tensor it wrote,
 * so before any result derived from the lookup reaches the caller.
 */
public final class EmbeddingLookup {
    private EmbeddingLookup() {
    }

    /**
     * The masked lookup of this rank's shard into a new {@code [T, H]} tensor, allocated on {@code ctx}.
     *
     * @param ctx the context the result is allocated on and the lookup queued on; the tensors live on its device
     * @param ids the token ids, I32 or I64 {@code [T]}, global ids in {@code [0, V)}
     * @param weightShard the shard's {@code valid(r)} real rows, {@code [valid, H]} F32, F16 or BF16
     * @param shard this rank's share of the vocabulary
     * @return the rank's partial {@code [T, H]} in the weight's dtype, owned by the caller; summed over the ranks (one
     *     all-reduce or reduce-scatter) it is the lookup
     * @throws IllegalArgumentException when a shape, dtype or device is wrong, or an id is outside {@code [0, V)} (on
     *     the CPU at the call, on a GPU at the context's next synchronization or host read of a tensor it wrote)
     */
    public static Tensor vocabParallel(ExecutionContext ctx, Tensor ids, Tensor weightShard, VocabShard shard) {
        return masked(ctx, ids, weightShard, shard.start(), shard.validRows(), shard.vocabSize());
    }

    /**
     * The hidden-parallel lookup: {@code weightColumns} is {@code [V, H/tp]}, all rows; the plain lookup.
     *
     * @param ctx the context the result is allocated on and the lookup queued on; the tensors live on its device
     * @param ids the token ids, I32 or I64 {@code [T]}, in {@code [0, V)}
     * @param weightColumns the rank's columns of every row, {@code [V, H/tp]} F32, F16 or BF16
     * @return the rank's columns of the lookup, {@code [T, H/tp]} in the weight's dtype, owned by the caller; gathered
     *     along the hidden dimension (one all-gather, or an all-to-all for sequence parallelism) it is the lookup
     * @throws IllegalArgumentException when a shape, dtype or device is wrong, the weight has no rows, or an id is
     *     outside {@code [0, V)} (on the CPU at the call, on a GPU at the context's next synchronization or host read)
     */
    public static Tensor hiddenParallel(ExecutionContext ctx, Tensor ids, Tensor weightColumns) {
        checkPlain(ctx, ids, weightColumns, null);
        Tensor out = Tensor.allocate(ctx, weightColumns.dtype(), ids.dim(0), weightColumns.dim(1));
        try {
            runPlain(ctx, ids, weightColumns, out);
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /**
     * The plain lookup into {@code out}: {@code out[t,:] = weight[ids[t], :]}, {@code V} = the weight's rows, queued
     * on {@code ctx}. An id outside {@code [0, V)} throws as in the masked lookup.
     *
     * @param ctx the context the lookup is queued on; the tensors live on its device
     * @param ids the token ids, I32 or I64 {@code [T]}
     * @param weight {@code [V, H]} F32, F16 or BF16, at least one row
     * @param out {@code [T, H]} of the weight's dtype and device, overwritten
     * @throws IllegalArgumentException when a shape, dtype or device is wrong, the weight has no rows, or an id is
     *     outside {@code [0, V)} (on the CPU at the call, on a GPU at the context's next synchronization or host read)
     */
    public static void plain(ExecutionContext ctx, Tensor ids, Tensor weight, Tensor out) {
        checkPlain(ctx, ids, weight, out);
        runPlain(ctx, ids, weight, out);
    }

    private static void runPlain(ExecutionContext ctx, Tensor ids, Tensor weight, Tensor out) {
        if (ctx.isCuda()) {
            EmbeddingLookupCuda.launchPlain(ids, weight, out, ctx);
        } else {
            long vocab = weight.dim(0);
            EmbeddingLookupCpu.run(ids, weight, 0, vocab, vocab, out);
        }
    }

    /**
     * The masked lookup into a new {@code [T, H]} tensor allocated on {@code ctx}; closed again if it fails.
     *
     * @param ctx the context the result is allocated on and the lookup queued on; the tensors live on its device
     * @param ids the token ids, I32 or I64 {@code [T]}, global ids
     * @param weight the shard's real rows, {@code [valid, H]} F32, F16 or BF16
     * @param start the shard's first global id, {@code >= 0}
     * @param valid the shard's real rows, {@code >= 0}; a shard with rows must end within the vocabulary
     * @param vocabSize {@code V}, the real vocabulary size, {@code >= 1}
     * @return the rank's partial {@code [T, H]} in the weight's dtype, owned by the caller: zero rows for ids outside
     *     the shard
     * @throws IllegalArgumentException when a shape, dtype or device is wrong, the shard does not fit the vocabulary,
     *     or an id is outside {@code [0, V)} (on the CPU at the call, on a GPU at the context's next synchronization or
     *     host read)
     */
    public static Tensor masked(ExecutionContext ctx, Tensor ids, Tensor weight, long start, long valid,
                                long vocabSize) {
        check(ctx, ids, weight, start, valid, vocabSize, null);
        Tensor out = Tensor.allocate(ctx, weight.dtype(), ids.dim(0), weight.dim(1));
        try {
            runMasked(ctx, ids, weight, start, valid, vocabSize, out);
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /**
     * The masked lookup into {@code out} ({@code [T, H]}, the weight's dtype and device), queued on {@code ctx}; on a
     * GPU through the context's {@linkplain ExecutionContext#launcher() launcher}.
     *
     * @param ctx the context the lookup is queued on; the tensors live on its device
     * @param ids the token ids, I32 or I64 {@code [T]}, global ids
     * @param weight the shard's real rows, {@code [valid, H]} F32, F16 or BF16
     * @param start the shard's first global id, {@code >= 0}
     * @param valid the shard's real rows, {@code >= 0}; a shard with rows must end within the vocabulary
     * @param vocabSize {@code V}, the real vocabulary size, {@code >= 1}
     * @param out {@code [T, H]} of the weight's dtype and device, overwritten
     * @throws IllegalArgumentException when a shape, dtype or device is wrong, the shard does not fit the vocabulary, a
     *     launcher other than the FFM one is given with CPU tensors, or an id is outside {@code [0, V)} (on the CPU at
     *     the call, on a GPU at the context's next synchronization or host read)
     */
    public static void masked(ExecutionContext ctx, Tensor ids, Tensor weight, long start, long valid, long vocabSize,
                              Tensor out) {
        check(ctx, ids, weight, start, valid, vocabSize, out);
        runMasked(ctx, ids, weight, start, valid, vocabSize, out);
    }

    private static void runMasked(ExecutionContext ctx, Tensor ids, Tensor weight, long start, long valid,
                                  long vocabSize, Tensor out) {
        if (ctx.isCuda()) {
            EmbeddingLookupCuda.launch(ids, weight, start, valid, vocabSize, out, ctx);
        } else {
            EmbeddingLookupCpu.run(ids, weight, start, valid, vocabSize, out);
        }
    }

    static IllegalArgumentException badId(long position, long id, long vocabSize) {
        return new IllegalArgumentException("embedding lookup: token id " + id + " at position " + position
                + " is outside [0, " + vocabSize + ")");
    }

    /** The plain lookup's checks: the masked lookup's with one shard of all the weight's rows. */
    private static void checkPlain(ExecutionContext ctx, Tensor ids, Tensor weight, Tensor out) {
        long vocab = weight.rank() == 2 ? weight.dim(0) : -1; // a weight of another rank fails its own check first
        if (weight.rank() == 2 && vocab == 0) {
            throw new IllegalArgumentException("embedding lookup: a plain lookup needs a weight with rows, got "
                    + weight.describe());
        }
        check(ctx, ids, weight, 0, vocab, vocab, out);
    }

    private static void check(ExecutionContext ctx, Tensor ids, Tensor weight, long start, long valid, long vocabSize,
                              Tensor out) {
        if ((ids.dtype() != DType.I32 && ids.dtype() != DType.I64) || ids.rank() != 1) {
            throw new IllegalArgumentException("embedding lookup: ids must be I32 or I64 of shape [T], got "
                    + ids.describe());
        }
        if (!weight.dtype().isFloatingPoint() || weight.rank() != 2) {
            throw new IllegalArgumentException("embedding lookup: weight must be F32, F16 or BF16 of shape [rows, H], got "
                    + weight.describe());
        }
        if (!ids.device().equals(weight.device())) {
            throw new IllegalArgumentException("embedding lookup: ids " + ids.describe() + " and weight "
                    + weight.describe() + " are on different devices");
        }
        // A shard without real rows may start past V (tiny vocab, many ranks); one with rows must end within it.
        if (vocabSize < 1 || start < 0 || valid < 0 || (valid > 0 && start + valid > vocabSize)) {
            throw new IllegalArgumentException("embedding lookup: shard start " + start + " and valid " + valid
                    + " do not fit in vocab " + vocabSize);
        }
        if (weight.dim(0) != valid) {
            throw new IllegalArgumentException("embedding lookup: weight " + weight.describe() + " must hold the "
                    + valid + " valid rows of the shard");
        }
        if (out != null && (out.dtype() != weight.dtype() || out.rank() != 2 || out.dim(0) != ids.dim(0)
                || out.dim(1) != weight.dim(1) || !out.device().equals(weight.device()))) {
            throw new IllegalArgumentException("embedding lookup: out must be [" + ids.dim(0) + ", " + weight.dim(1)
                    + "] " + weight.dtype() + " on " + weight.device() + ", got " + out.describe());
        }
        ctx.requireOn("embedding lookup", weight);
        if (!ctx.isCuda() && ctx.launcher() != KernelLauncher.FFM) { // another binding's launcher launches kernels only
            throw new IllegalArgumentException("embedding lookup: a kernel launcher needs tensors on a CUDA device, got "
                    + weight.describe());
        }
    }
}
