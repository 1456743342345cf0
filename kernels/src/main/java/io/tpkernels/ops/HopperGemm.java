package io.tpkernels.ops;

import java.util.function.Supplier;

/**
 * Whether the GPU GEMMs (LM head, linear, LoRA) may use the Hopper kernel ({@code gemm_sm90.cu}: TMA, mbarriers,
 * wgmma) for their large shapes on an sm_90 device. On by default; off for the whole JVM with the system property
 * {@code tpk.gemm.hopper=false}, or for one call on the calling thread with {@link #disabledDuring}, so that a
 * benchmark or a test can run the same shape through the portable tensor-core kernel (mma.sync) as well.
 */
public final class HopperGemm {
    private static final ThreadLocal<Boolean> DISABLED = ThreadLocal.withInitial(() -> false);

    private HopperGemm() {
    }

    /** Whether the Hopper kernel may be chosen on this thread now. */
    public static boolean enabled() {
        return !DISABLED.get() && !"false".equalsIgnoreCase(System.getProperty("tpk.gemm.hopper"));
    }

    /** Runs {@code work} on this thread with the Hopper kernel never chosen. */
    public static <T> T disabledDuring(Supplier<T> work) {
        boolean before = DISABLED.get();
        DISABLED.set(true);
        try {
            return work.get();
        } finally {
            DISABLED.set(before);
        }
    }

    /** Runs {@code work} on this thread with the Hopper kernel never chosen. */
    public static void disabledDuring(Runnable work) {
        disabledDuring(() -> {
            work.run();
            return null;
        });
    }
}
