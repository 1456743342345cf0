package io.tpkernels.layers.model;

import io.tpkernels.layers.LoraColumnParallelLinear;
import io.tpkernels.layers.LoraRowParallelLinear;
import io.tpkernels.layers.RankContext;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import java.util.Arrays;

/**
 * One LoRA layer's adapter put back together from its tensor-parallel shards (the contract, sections
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#8-lora-under-tensor-parallelism">8</a> and
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#9-peft-adapters">9</a>): the full
 * {@code A [R, K]} and {@code B [N, R]} as F32 host tensors, with any alignment padding past {@code R} dropped.
 * Column-parallel: {@code A} is replicated (this rank's copy is it) and {@code B}'s rows are all-gathered in rank
 * order; row-parallel: {@code A}'s columns are all-gathered and {@code B} is replicated. Every rank of the stage calls
 * it, in the same order (one all-gather per layer), and every rank gets the same full tensors.
 */
final class LoraGather {
    private LoraGather() {
    }

    /** Full host F32 {@code A} and {@code B}; owns both. */
    record Full(Tensor a, Tensor b) implements AutoCloseable {
        @Override
        public void close() {
            try (a; b) {
                // both closed
            }
        }
    }

    static Full column(LoraColumnParallelLinear layer, RankContext ctx) {
        try (Tensor b = ctx.tp().allGather(ctx.exec(), layer.loraB(), 0)) {
            ctx.exec().synchronize(); // the gather is queued on the stream; the host reads after it
            return unpadded(layer.loraA(), b, layer.loraRank());
        }
    }

    static Full row(LoraRowParallelLinear layer, RankContext ctx) {
        try (Tensor a = ctx.tp().allGather(ctx.exec(), layer.loraA(), 1)) {
            ctx.exec().synchronize();
            return unpadded(a, layer.loraB(), layer.loraRank());
        }
    }

    /**
     * {@code A}'s first {@code r} rows and {@code B}'s first {@code r} columns, widened to F32 on the host: the adapter
     * without the zero rows and columns a GPU layer pads its rank with ({@code LoraLinear.padRank}).
     */
    static Full unpadded(Tensor a, Tensor b, int r) {
        long k = a.dim(1);
        long n = b.dim(0);
        int padded = Math.toIntExact(b.dim(1));
        float[] as = a.toFloatArray();
        float[] bs = b.toFloatArray();
        float[] aOut = Arrays.copyOf(as, Math.toIntExact(r * k));
        float[] bOut = new float[Math.toIntExact(n * r)];
        for (int i = 0; i < n; i++) {
            System.arraycopy(bs, i * padded, bOut, i * r, r);
        }
        Tensor fullA = Tensor.ofFloats(DType.F32, aOut, r, k);
        try {
            return new Full(fullA, Tensor.ofFloats(DType.F32, bOut, n, r));
        } catch (RuntimeException e) {
            fullA.close();
            throw e;
        }
    }
}
