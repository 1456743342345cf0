package io.tpkernels.ops;

import java.util.Locale;
import java.util.function.Supplier;

/**
 * Whether the GPU GEMMs (LM head, linear, LoRA) may use a Hopper kernel (TMA, mbarriers, wgmma) for their large shapes
 * on an sm_90 device, and which: {@link Variant#V1} ({@code gemm_sm90.cu}, one 128 × 256 tile per block) by default,
 * or {@link Variant#PINGPONG} ({@code gemm_sm90_pingpong.cu}, persistent, two consumer warpgroups taking turns). The
 * system property {@code tpk.gemm.hopper} sets it for the whole JVM ({@code v1}, {@code pingpong}, or {@code false}
 * for neither); {@link #disabledDuring} and {@link #variantDuring} override it for one call on the calling thread,
 * so that a benchmark or a test can run the same shape through each kernel.
 */
public final class HopperGemm {
    /** The Hopper GEMM kernels. */
    public enum Variant { V1, PINGPONG }

    private static final ThreadOverride<Boolean> DISABLED = new ThreadOverride<>();
    private static final ThreadOverride<Variant> OVERRIDE = new ThreadOverride<>();

    private HopperGemm() {
    }

    /** Whether a Hopper kernel may be chosen on this thread now. */
    public static boolean enabled() {
        return DISABLED.get() == null && !"false".equalsIgnoreCase(System.getProperty("tpk.gemm.hopper"));
    }

    /** Which Hopper kernel runs on this thread now, when {@link #enabled()}. */
    public static Variant variant() {
        Variant v = OVERRIDE.get();
        return v != null ? v : fromProperty(System.getProperty("tpk.gemm.hopper"));
    }

    /** {@code tpk.gemm.hopper}: unset, {@code true}, {@code false} or {@code v1} mean v1; {@code pingpong} v2. */
    static Variant fromProperty(String value) {
        if (value == null) {
            return Variant.V1;
        }
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "pingpong" -> Variant.PINGPONG;
            case "v1", "true", "false" -> Variant.V1;
            default -> throw new IllegalArgumentException("tpk.gemm.hopper=" + value + ": expected v1, pingpong or false");
        };
    }

    /** Runs {@code work} on this thread with the Hopper kernels never chosen. */
    public static <T> T disabledDuring(Supplier<T> work) {
        return DISABLED.during(true, work);
    }

    /** Runs {@code work} on this thread with the Hopper kernels never chosen. */
    public static void disabledDuring(Runnable work) {
        disabledDuring(() -> {
            work.run();
            return null;
        });
    }

    /**
     * Runs {@code work} on this thread with {@code variant} as the Hopper kernel wherever one may run (it does not
     * enable a Hopper kernel that {@code tpk.gemm.hopper=false} or {@link #disabledDuring} keeps out).
     */
    public static <T> T variantDuring(Variant variant, Supplier<T> work) {
        return OVERRIDE.during(variant, work);
    }

    /** As {@link #variantDuring(Variant, Supplier)}. */
    public static void variantDuring(Variant variant, Runnable work) {
        variantDuring(variant, () -> {
            work.run();
            return null;
        });
    }
}
