package io.tpkernels.ops;

import java.util.Locale;
import java.util.function.Supplier;

/**
 * Where a GPU LoRA forward at prefill computes its shrink {@code xa = s·x·Aᵀ} when both forms can run (an sm_90
 * device with the Hopper kernels on, F16/BF16, {@code R ≤ 64}, {@code T > 16}): inside the fused kernel itself, from
 * the X tiles it already holds, with {@code xa} never leaving the registers ({@code gemm_sm90.cu},
 * {@code tpk_gemm_wgmma_lora*}, built on the v1 Hopper kernel whatever {@link HopperGemm#variant()} says); or as a
 * small GEMM of its own into a {@code [T, R]} scratch buffer that the fused kernel then reads. On chip, every
 * 256-wide column tile recomputes its rows' shrink: {@code R/256} more tensor work (6% at R = 16, 25% at 64),
 * against one extra pass over {@code x} for the separate shrink. So {@link Mode#AUTO}, the default, puts it on chip
 * up to {@link #AUTO_MAX_RANK} only, where the two are predicted to cost about the same; {@link Mode#ON_CHIP} up to
 * 64; {@link Mode#SEPARATE} never. Both compute the same expression; the sums run in other orders, so results may
 * differ in the last bits. The system property {@code tpk.lora.shrink} ({@code auto}, {@code on-chip} or
 * {@code separate}) sets it for the whole JVM; {@link #modeDuring} overrides it for one call on the calling thread,
 * so that a benchmark can time both. Other shapes and devices always take the separate shrink (at decode, one
 * launch of its own, {@code lora_decode.cu}).
 */
public final class LoraShrink {
    /** Where the shrink runs. */
    public enum Mode { AUTO, ON_CHIP, SEPARATE }

    /** The largest rank {@link Mode#AUTO} computes on chip (the on-chip kernel's smallest width). */
    public static final int AUTO_MAX_RANK = 16;

    private static final ThreadOverride<Mode> OVERRIDE = new ThreadOverride<>();

    private LoraShrink() {
    }

    /** The mode on this thread now. */
    public static Mode mode() {
        Mode m = OVERRIDE.get();
        return m != null ? m : fromProperty(System.getProperty("tpk.lora.shrink"));
    }

    /** {@code tpk.lora.shrink}: unset or {@code auto}, {@code on-chip}, {@code separate}. */
    static Mode fromProperty(String value) {
        if (value == null) {
            return Mode.AUTO;
        }
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "auto" -> Mode.AUTO;
            case "on-chip" -> Mode.ON_CHIP;
            case "separate" -> Mode.SEPARATE;
            default -> throw new IllegalArgumentException("tpk.lora.shrink=" + value
                    + ": expected auto, on-chip or separate");
        };
    }

    /** The largest rank whose shrink runs on chip on this thread now (0: none), where the kernel can run at all. */
    static int maxOnChipRank(int kernelMaxRank) {
        return switch (mode()) {
            case AUTO -> Math.min(AUTO_MAX_RANK, kernelMaxRank);
            case ON_CHIP -> kernelMaxRank;
            case SEPARATE -> 0;
        };
    }

    /** Runs {@code work} on this thread with {@code mode}. */
    public static <T> T modeDuring(Mode mode, Supplier<T> work) {
        return OVERRIDE.during(mode, work);
    }

    /** As {@link #modeDuring(Mode, Supplier)}. */
    public static void modeDuring(Mode mode, Runnable work) {
        modeDuring(mode, () -> {
            work.run();
            return null;
        });
    }
}
