package io.tpkernels.ops;

import io.tpkernels.gpu.CudaDevice;
import io.tpkernels.gpu.CudaStream;
import io.tpkernels.gpu.ErrorFlags;
import io.tpkernels.gpu.KernelArgs;
import io.tpkernels.gpu.KernelLauncher;
import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Tensor;

/**
 * {@link EmbeddingLookup} on a GPU: one launch of {@code embedding.cu} (through the given launcher), then the
 * device-side bad-id flag.
 */
final class EmbeddingLookupCuda {
    private static final int THREADS = 256;
    private static final int WARPS_PER_BLOCK = THREADS / 32;
    /** Blocks per multiprocessor: two waves of full occupancy (8 blocks of 256 threads fill an SM). */
    private static final int BLOCKS_PER_SM = 16;

    /** Kernel names by word size (16, 4, 2 bytes) and id dtype. */
    private static final String[][] KERNELS = {
        {"tpk_embedding_w16_i32", "tpk_embedding_w16_i64"},
        {"tpk_embedding_w4_i32", "tpk_embedding_w4_i64"},
        {"tpk_embedding_w2_i32", "tpk_embedding_w2_i64"},
    };

    private EmbeddingLookupCuda() {
    }

    static EmbeddingLookup.Pending launch(Tensor ids, Tensor weight, long start, long valid, long vocabSize, Tensor out,
                                          CudaStream stream, KernelLauncher launcher) {
        CudaDevice device = weight.cudaDevice();
        long tokens = ids.dim(0);
        long rowBytes = weight.dim(1) * weight.dtype().byteSize();
        if (tokens == 0 || rowBytes == 0) {
            return () -> { };
        }
        long wPtr = weight.devicePointer();
        long oPtr = out.devicePointer();
        // The widest word that divides a row and keeps every row's start aligned.
        int word = rowBytes % 16 == 0 && wPtr % 16 == 0 && oPtr % 16 == 0 ? 16
                : rowBytes % 4 == 0 && wPtr % 4 == 0 && oPtr % 4 == 0 ? 4 : 2;
        int wordIndex = word == 16 ? 0 : word == 4 ? 1 : 2;
        String kernel = KERNELS[wordIndex][ids.dtype() == DType.I32 ? 0 : 1];
        long blocksNeeded = (tokens + WARPS_PER_BLOCK - 1) / WARPS_PER_BLOCK;
        int blocks = (int) Math.max(1, Math.min(blocksNeeded, (long) device.multiprocessors() * BLOCKS_PER_SM));
        ErrorFlags.Flag flag = device.errorFlags().borrow(stream);
        try {
            // valid = 0 leaves a 1-byte buffer behind the weight: the kernel never reads it.
            launcher.launch(stream, "embedding", kernel, blocks, THREADS, 0, KernelArgs.begin().ptr(oPtr).ptr(wPtr)
                    .ptr(ids.devicePointer()).i64(tokens).i64(start).i64(valid).i64(vocabSize).i64(rowBytes / word)
                    .ptr(flag.pointer()));
        } catch (RuntimeException e) {
            flag.close(); // nothing was queued that could write it: back to the pool
            throw e;
        }
        return () -> {
            long position;
            try {
                position = flag.read(stream);
            } finally {
                flag.close();
            }
            if (position != ErrorFlags.NONE) {
                try (Tensor bad = ids.rows(position, position + 1).copyTo(io.tpkernels.tensor.Device.CPU)) {
                    throw EmbeddingLookup.badId(position, ids.dtype().getLong(bad.hostSegment(), 0), vocabSize);
                }
            }
        };
    }
}
