package io.tpkernels.collective;

import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;

/**
 * The collectives of docs/contract.md section 12 among the {@link #size()} ranks of a group. Every rank calls the
 * same collectives in the same order with tensors of the same shape and dtype (checked: a mismatch is an error
 * on every rank naming the rank and both shapes). Every rank sees identical results. A failure or timeout on one
 * rank surfaces as a {@link CollectiveException} on every rank within the group's timeout.
 *
 * <p>Every collective takes the calling rank's {@link ExecutionContext}: on a GPU it is queued on the context's stream
 * and ordered with the other ranks' streams by events, not host waits (the host returns once the work is queued);
 * tensors it returns are allocated on the context. A collective reads and writes its tensors in the context's
 * stream order, so the caller may close or reuse them right after it returns, as after any operation.
 *
 * <p>Dimensions follow the tensor's shape ({@code dim} 0 is tokens for activations); "split along dim" means
 * {@code size()} equal contiguous slabs, rank {@code i} owning slab {@code i}.
 */
public interface ProcessGroup extends AutoCloseable {

    /** This rank, in {@code [0, size())}. */
    int rank();

    /** The number of ranks. */
    int size();

    /** In place: every rank's {@code tensor} becomes the reduction of all ranks' tensors. */
    void allReduce(ExecutionContext ctx, Tensor tensor, ReduceOp op);

    /** A new tensor: the ranks' tensors concatenated along {@code dim}, rank order. */
    Tensor allGather(ExecutionContext ctx, Tensor tensor, int dim);

    /** A new tensor: slab {@code rank()} along {@code dim} of the reduction of all ranks' tensors. */
    Tensor reduceScatter(ExecutionContext ctx, Tensor tensor, int dim, ReduceOp op);

    /**
     * A new tensor: rank {@code r} splits its tensor along {@code splitDim} and sends slab {@code i} to rank
     * {@code i}; each rank concatenates what it receives along {@code concatDim}, in rank order.
     */
    Tensor allToAll(ExecutionContext ctx, Tensor tensor, int splitDim, int concatDim);

    /** In place: every rank's {@code tensor} becomes {@code root}'s. */
    void broadcast(ExecutionContext ctx, Tensor tensor, int root);

    /**
     * {@code root} holds the full tensor (others pass {@code null}); every rank, the root included, gets its slab
     * along {@code dim}. On the root the slab is a view of the full tensor when {@code dim} is 0 (no copy); along
     * another dimension a view is impossible (tensors are contiguous), and the root copies its own slab once.
     */
    Tensor scatterFromRank(ExecutionContext ctx, Tensor fullOnRoot, int root, int dim);

    /** Sends a copy of {@code tensor} to {@code dst} (a pipeline hand-off); returns once the copy is taken. */
    void send(ExecutionContext ctx, Tensor tensor, int dst);

    /** Receives what {@code src} sent next into {@code into} (same shape and dtype). */
    void recv(ExecutionContext ctx, Tensor into, int src);

    /** Returns when every rank has called it. */
    void barrier();

    /** Releases the group's resources; further calls throw. */
    @Override
    void close();
}
