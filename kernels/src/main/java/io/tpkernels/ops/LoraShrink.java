package io.tpkernels.ops;

import java.util.Locale;
import java.util.function.Supplier;

/**
 * Where a GPU LoRA forward at prefill computes its shrink {@code xa = s·x·Aᵀ} when both forms can run (an sm_90
 * device, F16/BF16, {@code R ≤ 64}, {@code T > 16}): {@link Mode#ON_CHIP} (the default) inside the fused kernel
 * itself, from the X tiles it already holds, with {@code xa} never leaving the registers ({@code gemm_sm90.cu},
 * {@code tpk_gemm_wgmma_lora*}); or {@link Mode#SEPARATE} as a small GEMM of its own into a {@code [T, R]} scratch
 * buffer that the fused kernel then reads. They compute the same expression; the sums run in other orders, so
 * results may differ in the last bits. The system property {@code tpk.lora.shrink} ({@code on-chip} or
 * {@code separate}) sets it for the whole JVM; {@link #modeDuring} overrides it for one call on the calling thread,
 * so that a benchmark can time both. Other shapes and devices always take the separate shrink (at decode, one
 * launch of its own, {@code lora_decode.cu}).
 */
public final class LoraShrink {
    /** Where the shrink runs. */
    public enum Mode { ON_CHIP, SEPARATE }

    private static final ThreadLocal<Mode> OVERRIDE = new ThreadLocal<>();

    private LoraShrink() {
    }

    /** The mode on this thread now. */
    public static Mode mode() {
        Mode m = OVERRIDE.get();
        return m != null ? m : fromProperty(System.getProperty("tpk.lora.shrink"));
    }

    /** {@code tpk.lora.shrink}: unset or {@code on-chip} mean {@link Mode#ON_CHIP}, {@code separate} the other. */
    static Mode fromProperty(String value) {
        if (value == null) {
            return Mode.ON_CHIP;
        }
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "on-chip" -> Mode.ON_CHIP;
            case "separate" -> Mode.SEPARATE;
            default -> throw new IllegalArgumentException("tpk.lora.shrink=" + value + ": expected on-chip or separate");
        };
    }

    /** Runs {@code work} on this thread with {@code mode}. */
    public static <T> T modeDuring(Mode mode, Supplier<T> work) {
        Mode before = OVERRIDE.get();
        OVERRIDE.set(mode);
        try {
            return work.get();
        } finally {
            OVERRIDE.set(before);
        }
    }

    /** As {@link #modeDuring(Mode, Supplier)}. */
    public static void modeDuring(Mode mode, Runnable work) {
        modeDuring(mode, () -> {
            work.run();
            return null;
        });
    }
}
