package io.tpkernels.layers.weights;

import io.tpkernels.ops.Cast;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;

/**
 * Copies a shard window by window, each part of the host source into its part of the shard on the device,
 * converting the dtype on the way. A conversion happens on the target device: on a GPU the window travels in its
 * stored dtype to a device buffer of one window and is cast from there, so the device holds the shard and one
 * window, never the shard twice.
 */
final class WindowCopy implements AutoCloseable {
    /**
     * The most bytes of the source copied between two reports of progress ({@link TensorRead#passed}): what a copy
     * keeps mapped beyond what it has passed, and the size of the buffers it needs.
     */
    static final long WINDOW_BYTES = 8L << 20;

    private final Tensor staging;

    /** Copies of {@code from} elements into {@code to} on {@code device}, of at most {@code elements} each. */
    WindowCopy(Device device, DType from, DType to, long elements) {
        staging = device.isCuda() && from != to && elements > 0 ? Tensor.allocate(device, from, elements) : null;
    }

    /** Elements of {@code dtype} in one window. */
    static long elements(DType dtype) {
        return Math.max(1, WINDOW_BYTES / dtype.byteSize());
    }

    /**
     * {@code src} (host, 1-D) into {@code dst} (1-D, as many elements); returns when done: the shard outlives any one
     * stream, and the next window reuses the staging buffer.
     */
    void copy(Tensor src, Tensor dst) {
        if (src.dtype() == dst.dtype()) {
            dst.copyFrom(src);
        } else if (staging == null) {
            Cast.into(ExecutionContext.cpu(), src, dst);
        } else {
            Tensor staged = staging.rows(0, src.numel());
            staged.copyFrom(src);
            ExecutionContext loader = ExecutionContext.defaultFor(staging.device());
            Cast.into(loader, staged, dst);
            loader.synchronize();
        }
    }

    @Override
    public void close() {
        if (staging != null) {
            staging.close();
        }
    }
}
