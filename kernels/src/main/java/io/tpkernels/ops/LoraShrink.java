package io.tpkernels.ops;

import io.tpkernels.runtime.Tuning;

/**
 * Where a GPU LoRA forward at prefill computes its shrink {@code xa = s·x·Aᵀ} when both forms can run (an sm_90
 * device with the Hopper kernels on, F16/BF16, {@code R ≤ 64}, {@code T > 16}): inside the fused kernel itself, from
 * the X tiles it already holds, with {@code xa} never leaving the registers ({@code gemm_sm90.cu},
 * {@code tpk_gemm_wgmma_lora*}, built on the v1 Hopper kernel whatever the tuning's Hopper variant); or as a small
 * GEMM of its own into a {@code [T, R]} scratch buffer that the fused kernel then reads. On chip, every 256-wide
 * column tile recomputes its rows' shrink: {@code R/256} more tensor work (6% at R = 16, 25% at 64), against one
 * extra pass over {@code x} for the separate shrink. So {@link Tuning.LoraShrink#AUTO}, the default, puts it on chip
 * up to {@link #AUTO_MAX_RANK} only, where the two are predicted to cost about the same. Both compute the same
 * expression; the sums run in other orders, so results may differ in the last bits. Other shapes and devices always
 * take the separate shrink (at decode, one launch of its own, {@code lora_decode.cu}).
 */
final class LoraShrink {
    /** The largest rank {@link Tuning.LoraShrink#AUTO} computes on chip (the on-chip kernel's smallest width). */
    static final int AUTO_MAX_RANK = 16;

    private LoraShrink() {
    }

    /** The largest rank whose shrink runs on chip under {@code mode} (0: none), where the kernel can run at all. */
    static int maxOnChipRank(Tuning.LoraShrink mode, int kernelMaxRank) {
        return switch (mode) {
            case AUTO -> Math.min(AUTO_MAX_RANK, kernelMaxRank);
            case ON_CHIP -> kernelMaxRank;
            case SEPARATE -> 0;
        };
    }
}
