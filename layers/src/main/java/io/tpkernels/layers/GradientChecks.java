package io.tpkernels.layers;

import io.tpkernels.runtime.Tensor;

/**
 * What every layer's backward checks before it reads anything or joins a collective, so that a wrong call fails in
 * words on every rank alike rather than in a kernel, or in a collective that the other ranks never join.
 */
final class GradientChecks {
    private GradientChecks() {
    }

    /**
     * {@code dy} must be a float {@code [rows?, cols]} (rows any when negative) on the context's device: the
     * gradient of the output, in any float dtype (F32 from the next layer's backward, or the precision's).
     */
    static void requireOutputGradient(String layer, Tensor dy, long rows, long cols, RankContext ctx) {
        boolean ok = dy != null && dy.rank() == 2 && dy.dtype().isFloatingPoint() && dy.dim(1) == cols
                && (rows < 0 || dy.dim(0) == rows) && dy.device().equals(ctx.device());
        if (!ok) {
            throw new IllegalArgumentException(layer + " backward on rank " + ctx.rank() + ": dy, the gradient of the"
                    + " output, must be [" + (rows < 0 ? "T" : rows) + ", " + cols + "] F32, F16 or BF16 on "
                    + ctx.device() + ", got " + (dy == null ? "null" : dy.describe()));
        }
    }

    /**
     * A LoRA layer's backward needs the forward's input ({@code dA = s·(dy·B)ᵀ·x}, {@code dB = s·dyᵀ·(x·Aᵀ)}), and
     * trains plain LoRA only: DoRA's column scale {@code g} depends on {@code A} and {@code B} through a row norm,
     * whose gradient is not built.
     */
    static void requireLoraTrainable(String layer, LoraShard lora, Tensor x, RankContext ctx) {
        if (lora.doraScale() != null) {
            throw new UnsupportedOperationException(layer + " backward: the adapter is DoRA, whose training (the"
                    + " gradient through its scale m/‖W + s·B·A‖_row) is out of scope; only plain LoRA trains");
        }
        if (x == null) {
            throw new IllegalArgumentException(layer + " backward on rank " + ctx.rank() + ": a LoRA layer needs the"
                    + " forward's input x (dA = s·(dy·B)ᵀ·x), got null");
        }
    }
}
