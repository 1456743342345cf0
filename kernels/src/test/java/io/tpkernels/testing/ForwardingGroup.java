package io.tpkernels.testing;

import io.tpkernels.collective.ProcessGroup;
import io.tpkernels.collective.ReduceOp;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;

/** A {@link ProcessGroup} that passes every call on; a test overrides the one it means to break. */
public class ForwardingGroup implements ProcessGroup {
    /** The group every call goes to. */
    protected final ProcessGroup inner;

    public ForwardingGroup(ProcessGroup inner) {
        this.inner = inner;
    }

    @Override
    public int rank() {
        return inner.rank();
    }

    @Override
    public int size() {
        return inner.size();
    }

    @Override
    public void allReduce(ExecutionContext ctx, Tensor tensor, ReduceOp op) {
        inner.allReduce(ctx, tensor, op);
    }

    @Override
    public Tensor allGather(ExecutionContext ctx, Tensor tensor, int dim) {
        return inner.allGather(ctx, tensor, dim);
    }

    @Override
    public Tensor reduceScatter(ExecutionContext ctx, Tensor tensor, int dim, ReduceOp op) {
        return inner.reduceScatter(ctx, tensor, dim, op);
    }

    @Override
    public Tensor allToAll(ExecutionContext ctx, Tensor tensor, int splitDim, int concatDim) {
        return inner.allToAll(ctx, tensor, splitDim, concatDim);
    }

    @Override
    public void broadcast(ExecutionContext ctx, Tensor tensor, int root) {
        inner.broadcast(ctx, tensor, root);
    }

    @Override
    public Tensor scatterFromRank(ExecutionContext ctx, Tensor fullOnRoot, int root, int dim) {
        return inner.scatterFromRank(ctx, fullOnRoot, root, dim);
    }

    @Override
    public void send(ExecutionContext ctx, Tensor tensor, int dst) {
        inner.send(ctx, tensor, dst);
    }

    @Override
    public void recv(ExecutionContext ctx, Tensor into, int src) {
        inner.recv(ctx, into, src);
    }

    @Override
    public void barrier() {
        inner.barrier();
    }

    @Override
    public void close() {
        inner.close();
    }
}
