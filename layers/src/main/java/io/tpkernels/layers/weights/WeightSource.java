package io.tpkernels.layers.weights;

import io.tpkernels.runtime.Tensor;
import java.util.Set;

/**
 * Where layers find their weights: full (unsharded) tensors by name, read as zero-copy host views (a mapped
 * safetensors file, or tensors held in memory). A layer asks for a tensor by name and full shape and copies
 * only its own shard out of the view to its device ({@link ShardCopy}); nothing here allocates a full tensor. A copy
 * reads through {@link #read}, so that a mapped file's pages are released once copied.
 *
 * <p>A source is shared by every rank of the process (one mapping for all) and is safe to read from several
 * threads. Views stay valid until the source is closed.
 */
public interface WeightSource extends AutoCloseable {

    /**
     * Names the source in messages ("checkpoint /models/x/model.safetensors").
     *
     * @return a short description for error messages
     */
    String describe();

    /**
     * The names of every tensor it holds.
     *
     * @return the names, an unmodifiable set
     */
    Set<String> names();

    /**
     * Whether it holds a tensor named {@code name}.
     *
     * @param name a tensor name (a checkpoint key)
     * @return whether the source holds it
     */
    default boolean contains(String name) {
        return names().contains(name);
    }

    /**
     * The dtype and shape of {@code name}, without reading data.
     *
     * @param name a tensor name
     * @return its dtype and full shape
     * @throws WeightException naming the tensor and the source if there is no such tensor
     */
    TensorInfo info(String name);

    /**
     * A host view of all of {@code name} (not owned: closing it frees nothing).
     *
     * @param name a tensor name
     * @return a host view over the source's memory, valid until the source is closed
     * @throws WeightException naming the tensor and the source if there is no such tensor
     */
    Tensor view(String name);

    /**
     * A read of {@code name}'s view by a copy that takes its bytes {@code [firstByte, endByte)} (the span of a shard:
     * a row shard's rows, or for a column shard from its first element to its last), to close when the copy is done.
     * Reads of a mapped file release the pages behind what every read in flight over them has passed
     * ({@link TensorRead#passed}); the default releases nothing.
     *
     * @param name a tensor name
     * @param firstByte the first byte of the view the copy reads
     * @param endByte one past the last byte it reads
     * @return the read, to close when the copy is done
     * @throws WeightException naming the tensor and the source if there is no such tensor
     */
    default TensorRead read(String name, long firstByte, long endByte) {
        return TensorRead.of(view(name));
    }

    /**
     * {@link #info} of {@code name}, checked to have {@code fullShape}.
     *
     * @param name a tensor name
     * @param fullShape the full (unsharded) shape the caller expects
     * @return the tensor's dtype and shape
     * @throws WeightException naming the tensor, the source and both shapes otherwise
     */
    default TensorInfo require(String name, long... fullShape) {
        TensorInfo info = info(name);
        if (!info.hasShape(fullShape)) {
            throw new WeightException(describe() + ": tensor " + name + " has shape "
                    + java.util.Arrays.toString(info.shape()) + ", expected " + java.util.Arrays.toString(fullShape));
        }
        return info;
    }

    /**
     * The error to throw when copying {@code name}'s view failed with {@code fault}: the {@link InternalError} by
     * which the JVM reports a mapped page that cannot be read (a file cut short while in use). Names the source
     * and the tensor; a mapped checkpoint names the file.
     *
     * @param name the tensor whose copy failed
     * @param fault what the JVM threw
     * @return the exception to throw, with {@code fault} as its cause
     */
    default WeightException unreadable(String name, Throwable fault) {
        return new WeightException(describe() + ": tensor \"" + name + "\" cannot be read: " + fault.getMessage(),
                fault);
    }

    /** Releases the source (unmaps files); views handed out become unusable. */
    @Override
    void close();
}
