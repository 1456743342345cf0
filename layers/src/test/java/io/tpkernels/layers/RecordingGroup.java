package io.tpkernels.layers;

import io.tpkernels.collective.ProcessGroup;
import io.tpkernels.collective.ReduceOp;
import io.tpkernels.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;

/** A {@link ProcessGroup} that passes every call on and records the collective's name. */
final class RecordingGroup implements ProcessGroup {
    private final ProcessGroup inner;
    final List<String> calls = new ArrayList<>();

    RecordingGroup(ProcessGroup inner) {
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
    public void allReduce(Tensor tensor, ReduceOp op) {
        calls.add("allReduce");
        inner.allReduce(tensor, op);
    }

    @Override
    public Tensor allGather(Tensor tensor, int dim) {
        calls.add("allGather");
        return inner.allGather(tensor, dim);
    }

    @Override
    public Tensor reduceScatter(Tensor tensor, int dim, ReduceOp op) {
        calls.add("reduceScatter");
        return inner.reduceScatter(tensor, dim, op);
    }

    @Override
    public Tensor allToAll(Tensor tensor, int splitDim, int concatDim) {
        calls.add("allToAll");
        return inner.allToAll(tensor, splitDim, concatDim);
    }

    @Override
    public void broadcast(Tensor tensor, int root) {
        calls.add("broadcast");
        inner.broadcast(tensor, root);
    }

    @Override
    public Tensor scatterFromRank(Tensor fullOnRoot, int root, int dim) {
        calls.add("scatterFromRank");
        return inner.scatterFromRank(fullOnRoot, root, dim);
    }

    @Override
    public void send(Tensor tensor, int dst) {
        calls.add("send");
        inner.send(tensor, dst);
    }

    @Override
    public void recv(Tensor into, int src) {
        calls.add("recv");
        inner.recv(into, src);
    }

    @Override
    public void barrier() {
        calls.add("barrier");
        inner.barrier();
    }

    @Override
    public void close() {
        inner.close();
    }
}
