package io.tpkernels.ops;

import io.tpkernels.runtime.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.stream.LongStream;

/**
 * The CPU reference of {@link EmbeddingLookup}: exact row copies, split over cores by blocks of tokens.
 * All ids are checked before anything is written, so a bad id leaves {@code out} untouched.
 */
final class EmbeddingLookupCpu {
    private static final long TOKENS_PER_TASK = 64;

    private EmbeddingLookupCpu() {
    }

    static void run(Tensor ids, Tensor weight, long start, long valid, long vocabSize, Tensor out) {
        long tokens = ids.dim(0);
        MemorySegment idSeg = ids.hostSegment();
        for (long t = 0; t < tokens; t++) {
            long id = ids.dtype().getLong(idSeg, t);
            if (id < 0 || id >= vocabSize) {
                throw EmbeddingLookup.badId(t, id, vocabSize);
            }
        }
        MemorySegment w = weight.hostSegment();
        MemorySegment o = out.hostSegment();
        long rowBytes = weight.dim(1) * weight.dtype().byteSize();
        long tasks = (tokens + TOKENS_PER_TASK - 1) / TOKENS_PER_TASK;
        LongStream range = LongStream.range(0, tasks);
        (tasks > 1 ? range.parallel() : range).forEach(task -> {
            long end = Math.min(tokens, (task + 1) * TOKENS_PER_TASK);
            for (long t = task * TOKENS_PER_TASK; t < end; t++) {
                long local = ids.dtype().getLong(idSeg, t) - start;
                if (local >= 0 && local < valid) {
                    MemorySegment.copy(w, local * rowBytes, o, t * rowBytes, rowBytes);
                } else {
                    o.asSlice(t * rowBytes, rowBytes).fill((byte) 0);
                }
            }
        });
    }
}
