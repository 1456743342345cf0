package io.tpkernels.layers;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import java.util.function.UnaryOperator;

/** Token ids handed to an embedding: checked, and moved to the rank's device when they are elsewhere. */
final class Ids {
    private Ids() {
    }

    /** {@code lookup} applied to {@code ids} moved to {@code ctx}'s device (a copy there, closed again, if need be). */
    static Tensor lookup(String layer, Tensor ids, RankContext ctx, UnaryOperator<Tensor> lookup) {
        Tensor local = onDevice(layer, ids, ctx);
        try {
            return lookup.apply(local);
        } finally {
            if (local != ids) {
                local.close();
            }
        }
    }

    private static Tensor onDevice(String layer, Tensor ids, RankContext ctx) {
        if ((ids.dtype() != DType.I32 && ids.dtype() != DType.I64) || ids.rank() != 1) {
            throw new IllegalArgumentException(layer + ": token ids must be I32 or I64 of shape [T], got "
                    + ids.describe());
        }
        return ids.device().equals(ctx.device()) ? ids : ids.copyTo(ctx.device());
    }
}
