package io.tpkernels.ops;

import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.stream.LongStream;

/** The CPU reference of {@link Cast}: exact per element, split over cores in blocks for large tensors. */
final class CastCpu {
    private static final long BLOCK = 1 << 16;

    private CastCpu() {
    }

    static void run(Tensor src, Tensor dst) {
        MemorySegment in = src.hostSegment();
        MemorySegment out = dst.hostSegment();
        DType from = src.dtype();
        DType to = dst.dtype();
        long n = src.numel();
        if (from == to) {
            MemorySegment.copy(in, 0, out, 0, src.byteSize());
            return;
        }
        long blocks = (n + BLOCK - 1) / BLOCK;
        LongStream range = LongStream.range(0, blocks);
        (blocks > 1 ? range.parallel() : range).forEach(b -> {
            long end = Math.min(n, (b + 1) * BLOCK);
            for (long i = b * BLOCK; i < end; i++) {
                to.setFloat(out, i, from.getFloat(in, i));
            }
        });
    }
}
