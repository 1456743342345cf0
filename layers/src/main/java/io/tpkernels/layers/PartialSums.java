package io.tpkernels.layers;

import io.tpkernels.collective.ReduceOp;
import io.tpkernels.runtime.Tensor;

/**
 * The one collective of a layer whose ranks each hold a partial sum (a row-parallel product, a vocab-parallel
 * lookup, a column-parallel input gradient, the LM head's input gradient): summed in place by one all-reduce for a
 * replicated result, or reduce-scattered over tokens (dim 0) for a token-sharded one.
 */
final class PartialSums {
    private PartialSums() {
    }

    /**
     * {@code partial} summed over {@code ctx}'s group as {@code result} asks. Takes {@code partial}: returns it (summed
     * in place) or this rank's scattered tokens, closing it then and on failure.
     */
    static Tensor sum(RankContext ctx, Tensor partial, Tokens result) {
        try {
            if (result == Tokens.REPLICATED) {
                ctx.tp().allReduce(ctx.exec(), partial, ReduceOp.SUM);
                return partial;
            }
            Tensor mine = ctx.tp().reduceScatter(ctx.exec(), partial, 0, ReduceOp.SUM);
            partial.close();
            return mine;
        } catch (RuntimeException e) {
            partial.close();
            throw e;
        }
    }
}
