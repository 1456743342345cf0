package io.tpkernels.bench.cases;

import io.tpkernels.collective.ProcessGroup;
import io.tpkernels.collective.ReduceOp;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;

/**
 * One rank of a tensor-parallel group of {@code size}, alone: what a benchmark of one rank's work needs. Its
 * all-reduce leaves the rank's own values (as if the other ranks had contributed nothing to a sum, or less to a
 * maximum), so the rank computes its own shard's share; no other collective is offered. The collectives of the
 * cases that use it move {@code O(T)} values, which the rank's GEMMs dwarf.
 */
final class OneRankOfMany implements ProcessGroup {
    private final int rank;
    private final int size;

    OneRankOfMany(int rank, int size) {
        this.rank = rank;
        this.size = size;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public void allReduce(ExecutionContext ctx, Tensor tensor, ReduceOp op) {
        // the rank's own values stand for the reduced ones
    }

    @Override
    public Tensor allGather(ExecutionContext ctx, Tensor tensor, int dim) {
        throw unsupported("allGather");
    }

    @Override
    public Tensor reduceScatter(ExecutionContext ctx, Tensor tensor, int dim, ReduceOp op) {
        throw unsupported("reduceScatter");
    }

    @Override
    public Tensor allToAll(ExecutionContext ctx, Tensor tensor, int splitDim, int concatDim) {
        throw unsupported("allToAll");
    }

    @Override
    public void broadcast(ExecutionContext ctx, Tensor tensor, int root) {
        throw unsupported("broadcast");
    }

    @Override
    public Tensor scatterFromRank(ExecutionContext ctx, Tensor fullOnRoot, int root, int dim) {
        throw unsupported("scatterFromRank");
    }

    @Override
    public void send(ExecutionContext ctx, Tensor tensor, int dst) {
        throw unsupported("send");
    }

    @Override
    public void recv(ExecutionContext ctx, Tensor into, int src) {
        throw unsupported("recv");
    }

    @Override
    public void barrier() {
    }

    @Override
    public void close() {
    }

    private static UnsupportedOperationException unsupported(String op) {
        return new UnsupportedOperationException(op + ": a benchmark's stand-in for one rank offers only all-reduce");
    }
}
