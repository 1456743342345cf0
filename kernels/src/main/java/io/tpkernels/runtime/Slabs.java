package io.tpkernels.runtime;

import io.tpkernels.cuda.sources.KernelConstants;
import io.tpkernels.cuda.sources.KernelNames;
import io.tpkernels.ffm.cuda.CudaDriver;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Slabs along one dimension of contiguous tensors: a slab {@code [start, start+length)} along {@code dim} is
 * {@code outer = Π shape[0..dim)} rows of {@code length·inner} contiguous elements, {@code inner =
 * Π shape(dim..]}. Copies between slabs are that many row copies: on the host with {@link MemorySegment#copy},
 * on a GPU with one copy ({@code outer == 1}) or one strided-row kernel.
 */
public final class Slabs {
    private Slabs() {
    }

    /**
     * {@code dim}, with negative values counting from the end, checked against {@code t}'s rank.
     *
     * @param t the tensor
     * @param dim the dimension, in {@code [-rank, rank)}
     * @return the dimension in {@code [0, rank)}
     * @throws IllegalArgumentException when {@code dim} is out of range
     */
    public static int normalize(Tensor t, int dim) {
        int d = dim < 0 ? t.rank() + dim : dim;
        if (d < 0 || d >= t.rank()) {
            throw new IllegalArgumentException("dimension " + dim + " of a rank-" + t.rank() + " tensor " + t.describe());
        }
        return d;
    }

    /**
     * {@code t}'s shape with dimension {@code dim} set to {@code length}.
     *
     * @param t the tensor
     * @param dim the dimension to replace, in {@code [0, rank)}
     * @param length its new size
     * @return a new shape array
     */
    public static long[] withDim(Tensor t, int dim, long length) {
        long[] s = t.shape();
        s[dim] = length;
        return s;
    }

    private static long inner(Tensor t, int dim) {
        long[] s = t.shape();
        long n = 1;
        for (int i = dim + 1; i < s.length; i++) {
            n *= s[i];
        }
        return n;
    }

    private static long outer(Tensor t, int dim) {
        long[] s = t.shape();
        long n = 1;
        for (int i = 0; i < dim; i++) {
            n *= s[i];
        }
        return n;
    }

    /**
     * Copies slab {@code [srcStart, srcStart+length)} of {@code src} along {@code dim} into slab
     * {@code [dstStart, dstStart+length)} of {@code dst}; both on {@code ctx}'s device, equal in every other
     * dimension. Queued on {@code ctx}.
     *
     * @param ctx the context whose stream the copy is queued on (on the host it runs at the call)
     * @param src the tensor to read
     * @param dim the dimension, in {@code [0, rank)} (not counted from the end)
     * @param srcStart the slab's first index in {@code src}
     * @param dst the tensor to write, of {@code src}'s dtype and shape but along {@code dim}
     * @param dstStart the slab's first index in {@code dst}
     * @param length the slab's size along {@code dim}; both ranges must lie within their tensors
     * @throws IllegalArgumentException when the tensors differ in dtype, device or another dimension, or are not on
     *     {@code ctx}'s device
     * @throws IllegalStateException when either tensor was closed
     */
    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    public static void copy(ExecutionContext ctx, Tensor src, int dim, long srcStart, Tensor dst, long dstStart,
                            long length) {
        long[] a = src.shape();
        long[] b = dst.shape();
        a[dim] = 0;
        b[dim] = 0;
        if (!Arrays.equals(a, b) || src.dtype() != dst.dtype() || !src.device().equals(dst.device())) {
            throw new IllegalArgumentException("slab copy between " + src.describe() + " and " + dst.describe());
        }
        ctx.requireOn("slab copy", src);
        long e = src.dtype().byteSize();
        long innerBytes = inner(src, dim) * e;
        long rows = outer(src, dim);
        long rowBytes = length * innerBytes;
        long srcStride = src.dim(dim) * innerBytes;
        long dstStride = dst.dim(dim) * innerBytes;
        if (rowBytes == 0 || rows == 0) {
            return;
        }
        try (Memory.Access use = Tensor.acquireAll(src, dst)) {
            if (!src.device().isCuda()) {
                MemorySegment s = src.hostSegment();
                MemorySegment d = dst.hostSegment();
                for (long r = 0; r < rows; r++) {
                    MemorySegment.copy(s, r * srcStride + srcStart * innerBytes, d, r * dstStride + dstStart * innerBytes,
                            rowBytes);
                }
                return;
            }
            CudaDevice device = src.cudaDevice();
            long sp = src.devicePointer() + srcStart * innerBytes;
            long dp = dst.devicePointer() + dstStart * innerBytes;
            device.makeCurrent();
            ctx.wrote(dst);
            if (rows == 1) {
                CudaDriver.memcpyDtoDAsync(dp, sp, rowBytes, ctx.stream().handle());
                return;
            }
            boolean words = (sp | dp | srcStride | dstStride | rowBytes) % 4 == 0;
            long total = rows * (rowBytes / (words ? 4 : 1));
            int threads = KernelConstants.COLLECTIVE_THREADS;
            int blocks = (int) Math.max(1, Math.min((total + threads - 1) / threads,
                    (long) device.multiprocessors() * 8));
            String kernel = words ? KernelNames.TPK_COPY_ROWS_B4 : KernelNames.TPK_COPY_ROWS_B1;
            ctx.kernel(KernelNames.MODULE_COLLECTIVE, kernel).launch(ctx, blocks, threads, 0,
                    KernelArgs.begin().ptr(dp).i64(dstStride).ptr(sp).i64(srcStride).i64(rowBytes).i64(rows));
        }
    }

    /**
     * A new tensor holding slab {@code [start, start+length)} of {@code src} along {@code dim}, queued on {@code ctx}.
     *
     * @param ctx the context the new tensor belongs to and the copy is queued on
     * @param src the tensor to read
     * @param dim the dimension, in {@code [-rank, rank)}
     * @param start the slab's first index
     * @param length the slab's size, {@code start + length <= src.dim(dim)}
     * @return the new tensor of {@code src}'s shape with {@code length} along {@code dim}, owned by the caller
     * @throws IllegalArgumentException when the dimension or the range is out of bounds, or {@code src} is not on
     *     {@code ctx}'s device
     */
    public static Tensor narrow(ExecutionContext ctx, Tensor src, int dim, long start, long length) {
        int d = normalize(src, dim);
        if (start < 0 || length < 0 || start + length > src.dim(d)) {
            throw new IllegalArgumentException("slab [" + start + ", " + (start + length) + ") of dimension " + dim
                    + " of " + src.describe());
        }
        Tensor out = Tensor.allocate(ctx, src.dtype(), withDim(src, d, length));
        try {
            copy(ctx, src, d, start, out, 0, length);
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }
}
