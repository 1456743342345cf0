package io.tpkernels.ops;

import io.tpkernels.runtime.CudaStream;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.KernelLauncher;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;

/**
 * The embedding lookups of docs/contract.md section 4, one entry point for both backends.
 * <ul>
 *   <li><b>Vocab-parallel (masked):</b> {@code out[t,:] = W_r[ids[t] − start, :]} if
 *       {@code start ≤ ids[t] < start + valid}, else {@code 0}. {@code W_r} holds only the shard's valid rows;
 *       summing the outputs of all ranks gives the unsharded lookup bit for bit.</li>
 *   <li><b>Hidden-parallel:</b> {@code W} holds all {@code V} rows and a slice of the columns; the plain lookup
 *       {@code out[t,:] = W[ids[t], :]} (what the masked one computes with {@code start = 0, valid = V}; on a GPU
 *       its own kernel, the masked one with the shard compare and zero-fill compiled out).</li>
 * </ul>
 * An id {@code < 0} or {@code ≥ V} is an {@link IllegalArgumentException} naming the first offending position
 * and its value, on both backends; the output is then not valid (on the CPU it is left untouched).
 */
public final class EmbeddingLookup {
    private EmbeddingLookup() {
    }

    /** The masked lookup of this rank's shard into a new {@code [T, H]} tensor on the weight's device. */
    public static Tensor vocabParallel(Tensor ids, Tensor weightShard, VocabShard shard) {
        return masked(ids, weightShard, shard.start(), shard.validRows(), shard.vocabSize());
    }

    /** The hidden-parallel lookup: {@code weightColumns} is {@code [V, H/tp]}, all rows; the plain lookup. */
    public static Tensor hiddenParallel(Tensor ids, Tensor weightColumns) {
        checkPlain(ids, weightColumns, null);
        Tensor out = Tensor.allocate(weightColumns.device(), weightColumns.dtype(), ids.dim(0), weightColumns.dim(1));
        try {
            plain(ids, weightColumns, out);
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /**
     * The plain lookup into {@code out}: {@code out[t,:] = weight[ids[t], :]}, {@code V} = the weight's rows;
     * returns when done. An id outside {@code [0, V)} throws as in the masked lookup.
     */
    public static void plain(Tensor ids, Tensor weight, Tensor out) {
        checkPlain(ids, weight, out);
        long vocab = weight.dim(0);
        if (weight.device().isCuda()) {
            CudaStream stream = CudaStream.legacyDefault(weight.cudaDevice());
            EmbeddingLookupCuda.launchPlain(ids, weight, out, stream, KernelLauncher.FFM).await();
        } else {
            EmbeddingLookupCpu.run(ids, weight, 0, vocab, vocab, out);
        }
    }

    /** Queues {@link #plain(Tensor, Tensor, Tensor)} on {@code stream}, as {@link #maskedAsync} does the masked one. */
    public static Pending plainAsync(Tensor ids, Tensor weight, Tensor out, CudaStream stream) {
        checkPlain(ids, weight, out);
        checkStream(weight, stream);
        return EmbeddingLookupCuda.launchPlain(ids, weight, out, stream, KernelLauncher.FFM);
    }

    /** The masked lookup into a new {@code [T, H]} tensor; closed again if the lookup fails. */
    public static Tensor masked(Tensor ids, Tensor weight, long start, long valid, long vocabSize) {
        check(ids, weight, start, valid, vocabSize, null);
        Tensor out = Tensor.allocate(weight.device(), weight.dtype(), ids.dim(0), weight.dim(1));
        try {
            masked(ids, weight, start, valid, vocabSize, out);
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /** The masked lookup into {@code out} ({@code [T, H]}, the weight's dtype and device); returns when done. */
    public static void masked(Tensor ids, Tensor weight, long start, long valid, long vocabSize, Tensor out) {
        check(ids, weight, start, valid, vocabSize, out);
        if (weight.device().isCuda()) {
            CudaStream stream = CudaStream.legacyDefault(weight.cudaDevice());
            EmbeddingLookupCuda.launch(ids, weight, start, valid, vocabSize, out, stream, KernelLauncher.FFM).await();
        } else {
            EmbeddingLookupCpu.run(ids, weight, start, valid, vocabSize, out);
        }
    }

    /**
     * The masked lookup into {@code out} on a GPU, its kernel launched on the device's legacy default stream by
     * {@code launcher} (another binding of the driver, such as {@code tpkernels-jcuda}'s); returns when done.
     * Checks, kernel, grid and parameters are those of {@link #masked(Tensor, Tensor, long, long, long, Tensor)}.
     */
    public static void masked(Tensor ids, Tensor weight, long start, long valid, long vocabSize, Tensor out,
                              KernelLauncher launcher) {
        check(ids, weight, start, valid, vocabSize, out);
        if (!weight.device().isCuda()) {
            throw new IllegalArgumentException("embedding lookup: a kernel launcher needs tensors on a CUDA device, got "
                    + weight.describe());
        }
        CudaStream stream = CudaStream.legacyDefault(weight.cudaDevice());
        EmbeddingLookupCuda.launch(ids, weight, start, valid, vocabSize, out, stream, launcher).await();
    }

    /**
     * Queues the masked lookup on {@code stream}; {@link Pending#await()} waits for it and throws if an id was
     * out of range. Until then {@code out} must not be read.
     */
    public static Pending maskedAsync(Tensor ids, Tensor weight, long start, long valid, long vocabSize, Tensor out,
                                      CudaStream stream) {
        check(ids, weight, start, valid, vocabSize, out);
        checkStream(weight, stream);
        return EmbeddingLookupCuda.launch(ids, weight, start, valid, vocabSize, out, stream, KernelLauncher.FFM);
    }

    /** A queued lookup whose bad-id check is still to be read. */
    public interface Pending {
        /** Waits for the lookup; throws {@link IllegalArgumentException} naming the first bad id if there was one. */
        void await();
    }

    static IllegalArgumentException badId(long position, long id, long vocabSize) {
        return new IllegalArgumentException("embedding lookup: token id " + id + " at position " + position
                + " is outside [0, " + vocabSize + ")");
    }

    private static void checkStream(Tensor weight, CudaStream stream) {
        if (!weight.device().isCuda() || weight.cudaDevice() != stream.device()) {
            throw new IllegalArgumentException("embedding lookup: tensors on " + weight.device() + " with a stream on "
                    + stream.device());
        }
    }

    /** The plain lookup's checks: the masked lookup's with one shard of all the weight's rows. */
    private static void checkPlain(Tensor ids, Tensor weight, Tensor out) {
        long vocab = weight.rank() == 2 ? weight.dim(0) : -1; // a weight of another rank fails its own check first
        if (weight.rank() == 2 && vocab == 0) {
            throw new IllegalArgumentException("embedding lookup: a plain lookup needs a weight with rows, got "
                    + weight.describe());
        }
        check(ids, weight, 0, vocab, vocab, out);
    }

    private static void check(Tensor ids, Tensor weight, long start, long valid, long vocabSize, Tensor out) {
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
    }
}
