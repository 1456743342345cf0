package io.tpkernels.layers.weights;

import io.tpkernels.runtime.DType;
import java.util.Arrays;

/**
 * What a weight source knows about one tensor before any of its data is read.
 *
 * @param name  the tensor's name in its source (a checkpoint key)
 * @param dtype its element type
 * @param shape its full (unsharded) shape; a copy is kept and handed out
 */
public record TensorInfo(String name, DType dtype, long[] shape) {
    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Whether the shape is {@code expected}. */
    public boolean hasShape(long... expected) {
        return Arrays.equals(shape, expected);
    }

    /** Bytes of its data. */
    public long byteSize() {
        long n = dtype.byteSize();
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** "model.embed_tokens.weight [32000, 4096] BF16", for messages. */
    public String describe() {
        return name + " " + Arrays.toString(shape) + " " + dtype;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && t.name.equals(name) && t.dtype == dtype && Arrays.equals(t.shape, shape);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "TensorInfo[" + describe() + "]";
    }
}
