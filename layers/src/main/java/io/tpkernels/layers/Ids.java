package io.tpkernels.layers;

import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Tensor;

/** Token ids handed to an embedding: checked, and moved to the rank's device when they are elsewhere. */
final class Ids {
    private Ids() {
    }

    /** {@code ids} on {@code ctx}'s device: itself when already there, else a copy the caller closes. */
    static Tensor onDevice(String layer, Tensor ids, RankContext ctx) {
        if ((ids.dtype() != DType.I32 && ids.dtype() != DType.I64) || ids.rank() != 1) {
            throw new IllegalArgumentException(layer + ": token ids must be I32 or I64 of shape [T], got "
                    + ids.describe());
        }
        return ids.device().equals(ctx.device()) ? ids : ids.copyTo(ctx.device());
    }
}
