package io.tpkernels.bench.cases;

import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.ops.CublasGemm;
import io.tpkernels.ops.LmHead;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.stream.LongStream;

/**
 * The ceilings, measured in the same run as the kernels, the same way (warm-ups, median):
 * <ul>
 *   <li>copy: on a GPU {@code cuMemcpyDtoDAsync} of 1 GiB, on the CPU {@link MemorySegment#copy} of 256 MiB
 *       split over the cores as the CPU kernels split their work; GB/s count the bytes read plus written;</li>
 *   <li>GEMM: on a GPU cuBLAS's BF16 GEMM at {@code 8192³} (none without cuBLAS), on the CPU the project's own
 *       CPU GEMM at {@code 1024³}, BF16 in and F32 out, the rate every CPU GEMM here shares.</li>
 * </ul>
 */
final class Ceilings {
    private static final long COPY_CHUNK = 4L << 20;

    private Ceilings() {
    }

    /** Both ceilings on {@code bench}'s device. */
    static Roofline measure(Bench bench) {
        return new Roofline(copy(bench), gemm(bench));
    }

    /** How the ceilings are measured on {@code bench}, for the report's header. */
    static String describe(Bench bench) {
        long n = gemmSize(bench);
        return bench.isCuda()
                ? "copy = cuMemcpyDtoDAsync of " + mib(copyBytes(bench)) + "; gemm = cuBLAS BF16 " + n + "³"
                        + (CublasGemm.isAvailable() ? "" : " (not measured: cuBLAS was not found)")
                : "copy = MemorySegment.copy of " + mib(copyBytes(bench)) + " on every core; gemm = CPU GEMM "
                        + n + "³, BF16 in, F32 out";
    }

    private static String mib(long bytes) {
        return (bytes >> 20) + " MiB";
    }

    private static long copyBytes(Bench bench) {
        return bench.quick() ? 1L << 20 : bench.isCuda() ? 1L << 30 : 256L << 20;
    }

    private static long gemmSize(Bench bench) {
        return bench.quick() ? 64 : bench.isCuda() ? 8192 : 1024;
    }

    private static Result copy(Bench bench) {
        long bytes = copyBytes(bench);
        try (Tensors mem = bench.tensors(0)) {
            Tensor src = mem.empty(DType.F32, bytes / DType.F32.byteSize());
            Tensor dst = mem.empty(DType.F32, bytes / DType.F32.byteSize());
            double ms = bench.medianMillis(bench.isCuda()
                    ? i -> CudaDriver.memcpyDtoDAsync(dst.devicePointer(), src.devicePointer(), bytes,
                            bench.exec().stream().handle())
                    : i -> copyOnEveryCore(src.hostSegment(), dst.hostSegment()));
            return new Result("copy", Result.Role.ceiling, bench.backend(), "-", Shape.of("bytes", bytes), ms,
                    2.0 * bytes, 0, List.of());
        }
    }

    private static void copyOnEveryCore(MemorySegment src, MemorySegment dst) {
        long size = src.byteSize();
        LongStream.range(0, Math.ceilDiv(size, COPY_CHUNK)).parallel().forEach(c -> {
            long offset = c * COPY_CHUNK;
            MemorySegment.copy(src, offset, dst, offset, Math.min(COPY_CHUNK, size - offset));
        });
    }

    /** The GEMM roof, or {@code null} on a GPU without cuBLAS. */
    private static Result gemm(Bench bench) {
        if (bench.isCuda() && !CublasGemm.isAvailable()) {
            return null;
        }
        long n = gemmSize(bench);
        DType out = bench.isCuda() ? DType.BF16 : DType.F32;
        try (Tensors mem = bench.tensors(1)) {
            Tensor x = mem.floats(DType.BF16, n, n);
            Tensor w = mem.floats(DType.BF16, n, n);
            Tensor product = mem.empty(out, n, n);
            double ms = bench.medianMillis(bench.isCuda()
                    ? i -> CublasGemm.multiplyNT(bench.exec(), x, w, product)
                    : i -> LmHead.logits(bench.exec(), x, w, product));
            return new Result("gemm", Result.Role.ceiling, bench.backend(), "BF16->" + out,
                    Shape.of("M", n).and("N", n).and("K", n), ms, x.byteSize() + w.byteSize() + product.byteSize(),
                    2.0 * n * n * n, List.of());
        }
    }
}
