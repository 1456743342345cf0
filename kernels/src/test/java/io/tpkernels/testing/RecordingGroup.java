package io.tpkernels.testing;

import io.tpkernels.collective.ProcessGroup;
import io.tpkernels.collective.ReduceOp;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;

/** A {@link ProcessGroup} that passes every call on and records the collective's name (with the reduction). */
public final class RecordingGroup extends ForwardingGroup {
    public final List<String> calls = new ArrayList<>();

    public RecordingGroup(ProcessGroup inner) {
        super(inner);
    }

    @Override
    public void allReduce(ExecutionContext ctx, Tensor tensor, ReduceOp op) {
        calls.add("allReduce " + op);
        inner.allReduce(ctx, tensor, op);
    }

    @Override
    public Tensor allGather(ExecutionContext ctx, Tensor tensor, int dim) {
        calls.add("allGather");
        return inner.allGather(ctx, tensor, dim);
    }

    @Override
    public Tensor reduceScatter(ExecutionContext ctx, Tensor tensor, int dim, ReduceOp op) {
        calls.add("reduceScatter " + op);
        return inner.reduceScatter(ctx, tensor, dim, op);
    }

    @Override
    public Tensor allToAll(ExecutionContext ctx, Tensor tensor, int splitDim, int concatDim) {
        calls.add("allToAll");
        return inner.allToAll(ctx, tensor, splitDim, concatDim);
    }

    @Override
    public void broadcast(ExecutionContext ctx, Tensor tensor, int root) {
        calls.add("broadcast");
        inner.broadcast(ctx, tensor, root);
    }

    @Override
    public Tensor scatterFromRank(ExecutionContext ctx, Tensor fullOnRoot, int root, int dim) {
        calls.add("scatterFromRank");
        return inner.scatterFromRank(ctx, fullOnRoot, root, dim);
    }

    @Override
    public void send(ExecutionContext ctx, Tensor tensor, int dst) {
        calls.add("send");
        inner.send(ctx, tensor, dst);
    }

    @Override
    public void recv(ExecutionContext ctx, Tensor into, int src) {
        calls.add("recv");
        inner.recv(ctx, into, src);
    }

    @Override
    public void barrier() {
        calls.add("barrier");
        inner.barrier();
    }
}
