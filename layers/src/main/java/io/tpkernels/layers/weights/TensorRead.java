package io.tpkernels.layers.weights;

import io.tpkernels.runtime.Tensor;

/**
 * One read of a tensor's host view by a copy that takes (part of) it, with the copy's progress through it. A mapped
 * checkpoint uses the progress to release the pages behind what every read in flight has passed, so that loading
 * does not keep the whole file resident beside the shards copied from it ({@link WeightSource#read}).
 */
public interface TensorRead extends AutoCloseable {

    /**
     * The whole tensor's host view (not owned: closing it frees nothing); usable until this read is closed.
     *
     * @return the view
     */
    Tensor view();

    /**
     * Says that this read will not read the view's bytes before {@code byteOffset} again: their pages may go.
     * Offsets only grow; a smaller one than before says nothing new.
     *
     * @param byteOffset how far the read has come, in bytes from the start of the view
     */
    void passed(long byteOffset);

    /** Ends the read: it reads nothing more of the view. Closing twice is harmless. */
    @Override
    void close();

    /**
     * A read of {@code view} that releases nothing: memory that is not a mapped file stays as it is.
     *
     * @param view the tensor's host view
     * @return a read whose {@link #passed} does nothing
     */
    static TensorRead of(Tensor view) {
        return new TensorRead() {
            @Override
            public Tensor view() {
                return view;
            }

            @Override
            public void passed(long byteOffset) {
            }

            @Override
            public void close() {
            }
        };
    }
}
