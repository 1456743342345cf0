package io.tpkernels.layers.weights;

import io.tpkernels.ops.Cast;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Copies one rank's shard out of a full host view (a mapped checkpoint tensor) to a device, converting the
 * dtype on the way. Only the shard is ever allocated: rows are one contiguous copy; columns are gathered
 * row by row into a host buffer of the shard's size. A dtype change happens on the target device (on a GPU
 * the shard travels in its stored dtype and is cast there), so the peak is at most the shard in both dtypes.
 */
public final class ShardCopy {
    private ShardCopy() {
    }

    /** All of {@code view}, as {@code dtype} on {@code device}. */
    public static Tensor whole(Tensor view, Device device, DType dtype) {
        return converted(view, device, dtype);
    }

    /** Rows {@code [from, to)} (dimension 0) of {@code view}, as {@code dtype} on {@code device}. */
    public static Tensor rows(Tensor view, long from, long to, Device device, DType dtype) {
        return converted(view.rows(from, to), device, dtype);
    }

    /** Columns {@code [from, to)} (the last dimension) of the 2-D {@code view}, as {@code dtype} on {@code device}. */
    public static Tensor columns(Tensor view, long from, long to, Device device, DType dtype) {
        if (view.rank() != 2) {
            throw new IllegalArgumentException("column shard of " + view.describe() + ": needs a 2-D tensor");
        }
        long rows = view.dim(0);
        long cols = view.dim(1);
        if (from < 0 || to < from || to > cols) {
            throw new IllegalArgumentException("columns [" + from + ", " + to + ") of " + view.describe());
        }
        if (from == 0 && to == cols) {
            return converted(view, device, dtype);
        }
        long elem = view.dtype().byteSize();
        long width = (to - from) * elem;
        Tensor gathered = Tensor.allocate(Device.CPU, view.dtype(), rows, to - from);
        try {
            MemorySegment src = view.hostSegment();
            MemorySegment dst = gathered.hostSegment();
            for (long r = 0; r < rows; r++) {
                MemorySegment.copy(src, (r * cols + from) * elem, dst, r * width, width);
            }
            if (!device.isCuda() && dtype == view.dtype()) {
                return gathered; // already the shard, where it belongs
            }
            try (gathered) {
                return converted(gathered, device, dtype);
            }
        } catch (RuntimeException e) {
            gathered.close();
            throw e;
        }
    }

    /** {@code src} (a host tensor) on {@code device} as {@code dtype}, in a new tensor the caller owns. */
    private static Tensor converted(Tensor src, Device device, DType dtype) {
        if (src.dtype() == dtype) {
            return src.copyTo(device);
        }
        if (!device.isCuda()) {
            return Cast.to(ExecutionContext.cpu(), src, dtype);
        }
        // The shard outlives any one stream, so it is allocated (and freed) outside stream order, and loading waits
        // for its conversion: it is used next on whichever stream the rank's context has.
        ExecutionContext loader = ExecutionContext.defaultFor(device);
        try (Tensor staged = src.copyTo(device)) {
            Tensor converted = Tensor.allocate(device, dtype, src.shape());
            try {
                Cast.into(loader, staged, converted);
                loader.synchronize();
                return converted;
            } catch (RuntimeException e) {
                converted.close();
                throw e;
            }
        }
    }
}
