package io.tpkernels.collective;

import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;

/**
 * The collectives of the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#12-collectives">section 12</a>, among the
 * {@link #size()} ranks of a group. Every rank calls the same collectives in the same order with tensors of the same
 * shape and dtype (checked: a mismatch is an error on every rank naming the rank and both shapes). Every rank sees
 * identical results. A failure or timeout on one rank surfaces as a {@link CollectiveException} on every rank within
 * the group's timeout.
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

    /**
     * This rank, in {@code [0, size())}.
     *
     * @return the rank
     */
    int rank();

    /**
     * The number of ranks.
     *
     * @return the group's size, at least 1
     */
    int size();

    /**
     * In place: every rank's {@code tensor} becomes the reduction of all ranks' tensors.
     *
     * @param ctx this rank's context; the tensor lives on its device
     * @param tensor this rank's contribution, replaced by the result; the same shape and dtype on every rank
     * @param op how the ranks' values combine
     * @throws IllegalArgumentException when the tensor is not on {@code ctx}'s device (or, for NCCL, the context is not
     *     on the group's device)
     * @throws CollectiveException when a rank failed or timed out, or the ranks' calls disagree
     * @throws IllegalStateException when the group was closed, or another thread is inside one of this rank's
     *     collectives
     */
    void allReduce(ExecutionContext ctx, Tensor tensor, ReduceOp op);

    /**
     * A new tensor: the ranks' tensors concatenated along {@code dim}, rank order.
     *
     * @param ctx this rank's context; the tensor lives on its device
     * @param tensor this rank's part; the same shape and dtype on every rank
     * @param dim the dimension to concatenate along, negative counting from the end
     * @return a new tensor, {@code size()} times as long along {@code dim}, allocated on {@code ctx} and owned by the
     *     caller
     * @throws IllegalArgumentException when the tensor is not on {@code ctx}'s device
     * @throws CollectiveException when a rank failed or timed out, the ranks' calls disagree, or {@code dim} is out of
     *     range
     * @throws IllegalStateException when the group was closed, or another thread is inside one of this rank's
     *     collectives
     */
    Tensor allGather(ExecutionContext ctx, Tensor tensor, int dim);

    /**
     * A new tensor: slab {@code rank()} along {@code dim} of the reduction of all ranks' tensors.
     *
     * @param ctx this rank's context; the tensor lives on its device
     * @param tensor this rank's contribution, left unchanged; the same shape and dtype on every rank
     * @param dim the dimension to split, negative counting from the end; its size must divide by {@code size()}
     * @param op how the ranks' values combine
     * @return a new tensor, {@code 1/size()} as long along {@code dim}, allocated on {@code ctx} and owned by the
     *     caller
     * @throws IllegalArgumentException when the tensor is not on {@code ctx}'s device
     * @throws CollectiveException when a rank failed or timed out, the ranks' calls disagree, {@code dim} is out of
     *     range or does not divide evenly
     * @throws IllegalStateException when the group was closed, or another thread is inside one of this rank's
     *     collectives
     */
    Tensor reduceScatter(ExecutionContext ctx, Tensor tensor, int dim, ReduceOp op);

    /**
     * A new tensor: rank {@code r} splits its tensor along {@code splitDim} and sends slab {@code i} to rank
     * {@code i}; each rank concatenates what it receives along {@code concatDim}, in rank order.
     *
     * @param ctx this rank's context; the tensor lives on its device
     * @param tensor this rank's tensor, left unchanged; the same shape and dtype on every rank
     * @param splitDim the dimension to split into {@code size()} slabs, negative counting from the end; it must divide
     *     evenly
     * @param concatDim the dimension to concatenate the received slabs along, negative counting from the end
     * @return a new tensor, allocated on {@code ctx} and owned by the caller
     * @throws IllegalArgumentException when the tensor is not on {@code ctx}'s device
     * @throws CollectiveException when a rank failed or timed out, the ranks' calls disagree, a dimension is out of
     *     range or the split does not divide evenly
     * @throws IllegalStateException when the group was closed, or another thread is inside one of this rank's
     *     collectives
     */
    Tensor allToAll(ExecutionContext ctx, Tensor tensor, int splitDim, int concatDim);

    /**
     * In place: every rank's {@code tensor} becomes {@code root}'s.
     *
     * @param ctx this rank's context; the tensor lives on its device
     * @param tensor the root's data on the root; on the others a tensor of the same shape and dtype to overwrite
     * @param root the rank whose tensor is sent, in {@code [0, size())}, the same on every rank
     * @throws IllegalArgumentException when the tensor is not on {@code ctx}'s device
     * @throws CollectiveException when a rank failed or timed out, the ranks' calls disagree, or {@code root} is out of
     *     range
     * @throws IllegalStateException when the group was closed, or another thread is inside one of this rank's
     *     collectives
     */
    void broadcast(ExecutionContext ctx, Tensor tensor, int root);

    /**
     * {@code root} holds the full tensor (others pass {@code null}); every rank, the root included, gets its slab
     * along {@code dim}. On the root the slab is a view of the full tensor when {@code dim} is 0 (no copy); along
     * another dimension a view is impossible (tensors are contiguous), and the root copies its own slab once.
     *
     * @param ctx this rank's context; the tensor lives on its device
     * @param fullOnRoot the full tensor on the root, {@code null} on every other rank
     * @param root the rank that holds the full tensor, the same on every rank
     * @param dim the dimension to split into {@code size()} slabs, negative counting from the end; it must divide
     *     evenly
     * @return this rank's slab, owned by the caller (on the root along dimension 0 a view of {@code fullOnRoot}, which
     *     must then stay open while the slab is used)
     * @throws IllegalArgumentException when the tensor is not on {@code ctx}'s device
     * @throws CollectiveException when a rank failed or timed out, the ranks' calls disagree, the root passed no
     *     tensor, or the dimension is out of range or does not divide evenly
     * @throws IllegalStateException when the group was closed, or another thread is inside one of this rank's
     *     collectives
     */
    Tensor scatterFromRank(ExecutionContext ctx, Tensor fullOnRoot, int root, int dim);

    /**
     * Sends a copy of {@code tensor} to {@code dst} (a pipeline hand-off); returns once the copy is taken.
     *
     * @param ctx this rank's context; the tensor lives on its device
     * @param tensor what to send; the caller may reuse or close it once this returns
     * @param dst the receiving rank, not this one
     * @throws IllegalArgumentException when {@code dst} is out of range or this rank, or the tensor is not on
     *     {@code ctx}'s device
     * @throws CollectiveException when a rank failed or timed out, or the receiver expects another shape or dtype
     * @throws IllegalStateException when the group was closed, or another thread is inside one of this rank's
     *     collectives
     */
    void send(ExecutionContext ctx, Tensor tensor, int dst);

    /**
     * Receives what {@code src} sent next into {@code into} (same shape and dtype).
     *
     * @param ctx this rank's context; {@code into} lives on its device
     * @param into the tensor to fill, of the sent tensor's shape and dtype
     * @param src the sending rank, not this one
     * @throws IllegalArgumentException when {@code src} is out of range or this rank, or {@code into} is not on
     *     {@code ctx}'s device
     * @throws CollectiveException when a rank failed, nothing arrived within the group's timeout, or the sent tensor's
     *     shape or dtype differs from {@code into}'s
     * @throws IllegalStateException when the group was closed, or another thread is inside one of this rank's
     *     collectives
     */
    void recv(ExecutionContext ctx, Tensor into, int src);

    /**
     * Returns when every rank has called it.
     *
     * @throws CollectiveException when a rank failed or did not arrive within the group's timeout
     * @throws IllegalStateException when the group was closed, or another thread is inside one of this rank's
     *     collectives
     */
    void barrier();

    /** Releases the group's resources; further calls throw. */
    @Override
    void close();
}
