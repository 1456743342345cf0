package io.tpkernels.ops;

import io.tpkernels.cuda.sources.KernelConstants;
import io.tpkernels.cuda.sources.KernelNames;
import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.CudaStream;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ErrorFlags;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.KernelArgs;
import io.tpkernels.runtime.Memory;
import io.tpkernels.runtime.Tensor;

/**
 * {@link EmbeddingLookup} on a GPU: one launch of {@code embedding.cu} (through the context's launcher), then the
 * device-side bad-id flag, read as a deferred check. The masked lookup runs {@code tpk_embedding_*}, the plain one
 * {@code tpk_embedding_plain_*} (the same body with the mask compiled out).
 */
final class EmbeddingLookupCuda {
    private static final int THREADS = KernelConstants.EMBEDDING_THREADS;
    private static final int WARPS_PER_BLOCK = THREADS / 32;
    /** Blocks per multiprocessor: two waves of the kernel's occupancy (its launch bounds ask for 6 per SM). */
    private static final int BLOCKS_PER_SM = 2 * KernelConstants.EMBEDDING_MIN_BLOCKS_PER_SM;
    /** The word sizes, widest first: a row is copied in the widest that divides it and both pointers' alignment. */
    private static final int[] WORDS = {16, 8, 4, 2};
    /** {@code tpk_embedding_w<word>} and {@code tpk_embedding_plain_w<word>} by word size, built once. */
    private static final String[] MASKED = new String[17];
    private static final String[] PLAIN = new String[17];

    static {
        for (int word : WORDS) {
            MASKED[word] = "tpk_embedding_w" + word;
            PLAIN[word] = "tpk_embedding_plain_w" + word;
        }
    }

    private EmbeddingLookupCuda() {
    }

    /** The masked lookup. */
    static void launch(Tensor ids, Tensor weight, long start, long valid, long vocabSize, Tensor out,
                       ExecutionContext ctx) {
        int word = wordBytes(weight, out);
        // valid = 0 leaves a 1-byte buffer behind the weight: the kernel never reads it.
        launch(ids, weight, out, vocabSize, ctx, MASKED[word], flag -> KernelArgs.begin()
                .ptr(out.devicePointer()).ptr(weight.devicePointer()).ptr(ids.devicePointer()).i64(ids.dim(0))
                .i64(start).i64(valid).i64(vocabSize).i64(rowBytes(weight) / word).ptr(flag.pointer()));
    }

    /** The plain lookup: every row of {@code weight} present, {@code V} = its rows. */
    static void launchPlain(Tensor ids, Tensor weight, Tensor out, ExecutionContext ctx) {
        int word = wordBytes(weight, out);
        long vocabSize = weight.dim(0);
        launch(ids, weight, out, vocabSize, ctx, PLAIN[word], flag ->
                KernelArgs.begin().ptr(out.devicePointer()).ptr(weight.devicePointer()).ptr(ids.devicePointer())
                        .i64(ids.dim(0)).i64(vocabSize).i64(rowBytes(weight) / word).ptr(flag.pointer()));
    }

    private static long rowBytes(Tensor weight) {
        return weight.dim(1) * weight.dtype().byteSize();
    }

    /**
     * The widest word that divides a row and keeps every row's start aligned (any word for H = 0): the kernel
     * copies rows in words of this many bytes (package-private: the tests check which path a shape takes).
     */
    static int wordBytes(Tensor weight, Tensor out) {
        long rowBytes = rowBytes(weight);
        long wPtr = weight.devicePointer();
        long oPtr = out.devicePointer();
        for (int word : WORDS) {
            if (rowBytes % word == 0 && wPtr % word == 0 && oPtr % word == 0) {
                return word;
            }
        }
        throw new IllegalStateException("embedding lookup: a " + weight.dtype() + " row at " + wPtr
                + " is not 2-byte aligned");
    }

    private interface Args {
        KernelArgs of(ErrorFlags.Flag flag);
    }

    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    /**
     * Queues the lookup and, behind it, the read of its bad-id flag as a check deferred to {@code ctx}: read at the
     * context's next synchronization or host read of a tensor it wrote, before any result derived from the lookup.
     */
    private static void launch(Tensor ids, Tensor weight, Tensor out, long vocabSize, ExecutionContext ctx,
                               String kernelPrefix, Args args) {
        long tokens = ids.dim(0);
        if (tokens == 0) {
            return;
        }
        // H = 0 still launches: no row is copied, but every id is checked, as on the CPU.
        String kernel = kernelPrefix + (ids.dtype() == DType.I32 ? "_i32" : "_i64");
        CudaDevice device = weight.cudaDevice();
        long blocksNeeded = (tokens + WARPS_PER_BLOCK - 1) / WARPS_PER_BLOCK;
        int blocks = (int) Math.max(1, Math.min(blocksNeeded, (long) device.multiprocessors() * BLOCKS_PER_SM));
        ErrorFlags.Flag flag = device.errorFlags().borrow(ctx.stream());
        int idBytes = ids.dtype().byteSize();
        try (Memory.Access use = Tensor.acquireAll(ids, weight, out)) {
            ctx.launcher().launch(ctx.stream(), KernelNames.MODULE_EMBEDDING, kernel, blocks, THREADS, 0, args.of(flag));
            // The ids as the kernel saw them, for the report: the caller may free or reuse them before it is read.
            flag.keep(ids.devicePointer(), tokens * idBytes, ctx.stream());
        } catch (RuntimeException e) {
            flag.close(); // nothing was queued that could write it: back to the pool
            throw e;
        }
        ctx.wrote(out);
        CudaStream stream = ctx.stream();
        ctx.defer(() -> {
            try {
                long position = flag.read(stream);
                if (position != ErrorFlags.NONE) {
                    throw EmbeddingLookup.badId(position, flag.keptLong(position * idBytes, idBytes), vocabSize);
                }
            } finally {
                flag.close();
            }
        });
    }
}
