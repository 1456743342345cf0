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
    /**
     * Keeps a copy of the shape.
     *
     * @param name the tensor's name in its source
     * @param dtype its element type
     * @param shape its full shape
     */
    public TensorInfo {
        shape = shape.clone();
    }

    /**
     * The full (unsharded) shape.
     *
     * @return a copy of the shape
     */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /**
     * Whether the shape is {@code expected}.
     *
     * @param expected the shape to compare with
     * @return whether the dimensions are equal, in number and size
     */
    public boolean hasShape(long... expected) {
        return Arrays.equals(shape, expected);
    }

    /**
     * Bytes of its data.
     *
     * @return the dtype's size times the element count
     * @throws ArithmeticException when the size overflows a {@code long}
     */
    public long byteSize() {
        long n = dtype.byteSize();
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /**
     * "model.embed_tokens.weight [32000, 4096] BF16", for messages.
     *
     * @return the name, shape and dtype
     */
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
