package io.tpkernels.layers.weights;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Memory;
import io.tpkernels.runtime.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Copies one rank's shard of a source tensor (a mapped checkpoint tensor) to a device, converting the dtype on the
 * way. Only the shard is ever allocated, and the source is read a window at a time ({@link WindowCopy}): after each
 * window the read reports its progress, so that a mapped file's pages behind it can go ({@link TensorRead#passed})
 * and loading holds the shards, not the shards and the file. Rows are one contiguous span; columns are gathered row
 * by row, straight into the shard on the host in its own dtype, else through a host buffer of one window.
 */
public final class ShardCopy {
    private ShardCopy() {
    }

    /**
     * All of {@code name}, as {@code dtype} on {@code device}.
     *
     * @param source where the tensor is
     * @param name the tensor's name
     * @param device where the copy goes
     * @param dtype the copy's dtype (a float dtype converts with rounding to nearest even)
     * @return the copy, owned by the caller
     * @throws WeightException when the source has no such tensor
     */
    public static Tensor whole(WeightSource source, String name, Device device, DType dtype) {
        TensorInfo info = source.info(name);
        try (TensorRead read = source.read(name, 0, info.byteSize())) {
            return contiguous(read, read.view(), 0, device, dtype);
        }
    }

    /**
     * Rows {@code [from, to)} (dimension 0) of {@code name}, as {@code dtype} on {@code device}.
     *
     * @param source where the tensor is
     * @param name the tensor's name
     * @param from the first row
     * @param to one past the last row, at most the tensor's first dimension
     * @param device where the copy goes
     * @param dtype the copy's dtype
     * @return the rows' copy, owned by the caller
     * @throws IllegalArgumentException when the range is out of bounds or the tensor is a scalar; a
     *     {@link WeightException} when the source has no such tensor
     */
    public static Tensor rows(WeightSource source, String name, long from, long to, Device device, DType dtype) {
        TensorInfo info = source.info(name);
        long[] shape = info.shape();
        if (shape.length == 0 || from < 0 || to < from || to > shape[0]) {
            throw new IllegalArgumentException("rows [" + from + ", " + to + ") of tensor " + info.describe());
        }
        long rowBytes = shape[0] == 0 ? 0 : info.byteSize() / shape[0];
        try (TensorRead read = source.read(name, from * rowBytes, to * rowBytes)) {
            return contiguous(read, read.view().rows(from, to), from * rowBytes, device, dtype);
        }
    }

    /**
     * Columns {@code [from, to)} (the last dimension) of the 2-D {@code name}, as {@code dtype} on {@code device}.
     *
     * @param source where the tensor is
     * @param name the tensor's name, a 2-D tensor
     * @param from the first column
     * @param to one past the last column, at most the tensor's second dimension
     * @param device where the copy goes
     * @param dtype the copy's dtype
     * @return the columns' copy {@code [rows, to − from]}, owned by the caller
     * @throws IllegalArgumentException when the tensor is not 2-D or the range is out of bounds; a
     *     {@link WeightException} when the source has no such tensor
     */
    public static Tensor columns(WeightSource source, String name, long from, long to, Device device, DType dtype) {
        TensorInfo info = source.info(name);
        long[] shape = info.shape();
        if (shape.length != 2) {
            throw new IllegalArgumentException("column shard of " + info.describe() + ": needs a 2-D tensor");
        }
        long rows = shape[0];
        long cols = shape[1];
        if (from < 0 || to < from || to > cols) {
            throw new IllegalArgumentException("columns [" + from + ", " + to + ") of " + info.describe());
        }
        if (from == 0 && to == cols) {
            return whole(source, name, device, dtype);
        }
        long elem = info.dtype().byteSize();
        // The span from the shard's first element to its last: the other ranks' columns lie between.
        long first = from * elem;
        long end = rows == 0 ? first : ((rows - 1) * cols + to) * elem;
        try (TensorRead read = source.read(name, first, end)) {
            return gathered(read, rows, cols, from, to, device, dtype);
        }
    }

    /** {@code src}, which starts {@code offset} bytes into {@code read}'s view, as {@code dtype} on {@code device}. */
    private static Tensor contiguous(TensorRead read, Tensor src, long offset, Device device, DType dtype) {
        Tensor dst = Tensor.allocate(device, dtype, src.shape());
        try {
            long n = src.numel();
            Tensor in = src.reshape(n);
            Tensor out = dst.reshape(n);
            long window = WindowCopy.elements(src.dtype());
            try (WindowCopy copy = new WindowCopy(device, src.dtype(), dtype, Math.min(window, n))) {
                for (long a = 0; a < n; a += window) {
                    long b = Math.min(n, a + window);
                    copy.copy(in.rows(a, b), out.rows(a, b));
                    read.passed(offset + b * src.dtype().byteSize());
                }
            }
            return dst;
        } catch (RuntimeException | Error e) {
            dst.close(); // an Error too: the JVM's InternalError for a page of a file cut short
            throw e;
        }
    }

    /** Columns {@code [from, to)} of {@code read}'s {@code [rows, cols]} view, a block of rows at a time. */
    private static Tensor gathered(TensorRead read, long rows, long cols, long from, long to, Device device,
                                   DType dtype) {
        Tensor view = read.view();
        long width = to - from;
        long elem = view.dtype().byteSize();
        long block = Math.max(1, WindowCopy.WINDOW_BYTES / (cols * elem));
        Tensor dst = Tensor.allocate(device, dtype, rows, width);
        try {
            // On the host in the source's dtype, the shard is gathered into directly.
            boolean direct = !device.isCuda() && dtype == view.dtype();
            long bufferRows = Math.min(block, rows);
            try (Tensor buffer = direct ? null : Tensor.allocate(Device.CPU, view.dtype(), bufferRows, width);
                 WindowCopy copy = new WindowCopy(device, view.dtype(), dtype, bufferRows * width)) {
                for (long r0 = 0; r0 < rows; r0 += block) {
                    long r1 = Math.min(rows, r0 + block);
                    Tensor part = direct ? dst.rows(r0, r1) : buffer.rows(0, r1 - r0);
                    gather(view, r0, r1, cols, from, width, part);
                    if (!direct) {
                        long n = (r1 - r0) * width;
                        copy.copy(part.reshape(n), dst.rows(r0, r1).reshape(n));
                    }
                    read.passed((r1 * cols + from) * elem);
                }
            }
            return dst;
        } catch (RuntimeException | Error e) {
            dst.close();
            throw e;
        }
    }

    /** Columns {@code [from, from + width)} of rows {@code [r0, r1)} of {@code view} into {@code part}. */
    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    private static void gather(Tensor view, long r0, long r1, long cols, long from, long width, Tensor part) {
        long elem = view.dtype().byteSize();
        try (Memory.Access use = Tensor.acquireAll(view, part)) {
            MemorySegment src = view.hostSegment();
            MemorySegment dst = part.hostSegment();
            for (long r = r0; r < r1; r++) {
                MemorySegment.copy(src, (r * cols + from) * elem, dst, (r - r0) * width * elem, width * elem);
            }
        }
    }
}
