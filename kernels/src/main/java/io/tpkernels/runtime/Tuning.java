package io.tpkernels.runtime;

import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The choices an {@link ExecutionContext} makes for the kernels it runs, decided when the context is built and read
 * from it on every call (never from system properties or thread-locals on a hot path). Two contexts in one JVM may be
 * tuned differently: two ranks, or a benchmark running one shape through each kernel.
 *
 * @param hopperGemm       which Hopper GEMM (TMA, mbarriers, wgmma) the large tensor-core GEMMs use on an sm_90 device
 * @param loraShrink       where a fused LoRA forward at prefill computes its shrink {@code s·x·Aᵀ}, where both can run
 * @param lmHeadBackend    who computes the LM head's valid columns on a GPU
 * @param ptxSource        where a device's kernel code comes from
 * @param collectiveChecks whether NCCL collectives first exchange what each rank passed (operation, dtype, shape) and
 *                         wait, so that a mismatch is an error naming both ranks instead of a hang or garbage; a
 *                         round trip per collective, so off by default, on in tests and for debugging
 * @param selfCheck        whether each hand-written GEMM and LoRA kernel is checked against the CPU reference on a
 *                         small shape the first time a context chooses it on a device, and replaced by a simpler
 *                         body if it fails (a warning names both); on by default, off where the kernels themselves
 *                         are being measured or checked ({@code tpk bench}, {@code tpk verify})
 * @param lmHeadLoss       how a training step computes the LM head's cross-entropy: fused (tiles of logits in a GEMM's
 *                         epilogue on a GPU, chunks of columns elsewhere; never all of them), chunked everywhere, or
 *                         the unfused reference (all {@code [T, S]} logits at once)
 */
public record Tuning(HopperGemm hopperGemm, LoraShrink loraShrink, LmHeadBackend lmHeadBackend, PtxSource ptxSource,
                     boolean collectiveChecks, boolean selfCheck, LmHeadLoss lmHeadLoss) {

    /** The Hopper GEMM kernels, or none. */
    public enum HopperGemm {
        /** Never a Hopper kernel: mma.sync on every device. */
        OFF,
        /** {@code gemm_sm90.cu}: one 128 × 256 tile per block. */
        V1,
        /** {@code gemm_sm90_pingpong.cu}: persistent, two consumer warpgroups taking turns. */
        PINGPONG
    }

    /**
     * Where the LoRA shrink runs at prefill when both forms can (sm_90, Hopper on, F16/BF16, {@code R ≤ 64},
     * {@code T > 16}): inside the fused kernel, recomputed by every 256-wide column tile ({@code R/256} more tensor
     * work), or as a GEMM of its own into a {@code [T, R]} scratch (one more pass over {@code x}).
     */
    public enum LoraShrink {
        /** On chip up to rank 16, where the two are predicted to cost about the same; separate above. */
        AUTO,
        /** On chip up to rank 64. */
        ON_CHIP,
        /** Always a separate shrink. */
        SEPARATE
    }

    /** Who computes the LM head on a GPU. */
    public enum LmHeadBackend {
        /** The hand-written kernels. */
        KERNEL,
        /** cuBLAS for the valid columns (where present and it takes the dtypes), a kernel for the padding. */
        CUBLAS,
        /** Times both once per shape and takes cuBLAS only where the kernel is more than 10% slower. */
        AUTO
    }

    /** Where kernel code comes from. */
    public enum PtxSource {
        /**
         * The machine code (cubin) packaged for the device's architecture, else the packaged PTX, else NVRTC from the
         * packaged source.
         */
        PACKAGED,
        /** The packaged PTX, compiled by the driver, else NVRTC: never the packaged machine code. */
        PTX,
        /** NVRTC only, from the packaged source. */
        NVRTC
    }

    /** How the LM head's loss and its gradient are computed in training. */
    public enum LmHeadLoss {
        /**
         * {@code LmHeadCrossEntropy}: on a GPU, for F16 and BF16, each tile of logits folded into the loss in the LM
         * head GEMM's epilogue and recomputed in the backward; elsewhere (the CPU, F32) a chunk of columns at a time.
         */
        FUSED,
        /** {@code LmHeadCrossEntropy} a chunk of columns at a time on every backend: the epilogue fusion's baseline. */
        CHUNKED,
        /** The LM head's {@code [T, S]} logits, then {@code VocabParallelCrossEntropy}: the reference. */
        UNFUSED
    }

    /**
     * As the canonical constructor, with the fused LM-head loss.
     *
     * @param hopperGemm which Hopper GEMM the large tensor-core GEMMs use
     * @param loraShrink where a fused LoRA forward at prefill computes its shrink
     * @param lmHeadBackend who computes the LM head's valid columns on a GPU
     * @param ptxSource where a device's kernel code comes from
     * @param collectiveChecks whether NCCL collectives check their arguments across ranks first
     * @param selfCheck whether kernels are checked against the CPU reference on first use
     */
    public Tuning(HopperGemm hopperGemm, LoraShrink loraShrink, LmHeadBackend lmHeadBackend, PtxSource ptxSource,
                  boolean collectiveChecks, boolean selfCheck) {
        this(hopperGemm, loraShrink, lmHeadBackend, ptxSource, collectiveChecks, selfCheck, LmHeadLoss.FUSED);
    }

    /**
     * Checks that no choice is {@code null}.
     *
     * @param hopperGemm which Hopper GEMM the large tensor-core GEMMs use
     * @param loraShrink where a fused LoRA forward at prefill computes its shrink
     * @param lmHeadBackend who computes the LM head's valid columns on a GPU
     * @param ptxSource where a device's kernel code comes from
     * @param collectiveChecks whether NCCL collectives check their arguments across ranks first
     * @param selfCheck whether kernels are checked against the CPU reference on first use
     * @param lmHeadLoss how a training step computes the LM head's cross-entropy
     * @throws NullPointerException when a choice is {@code null}
     */
    public Tuning {
        Objects.requireNonNull(lmHeadLoss, "lmHeadLoss");
        Objects.requireNonNull(hopperGemm, "hopperGemm");
        Objects.requireNonNull(loraShrink, "loraShrink");
        Objects.requireNonNull(lmHeadBackend, "lmHeadBackend");
        Objects.requireNonNull(ptxSource, "ptxSource");
    }

    /**
     * The defaults: Hopper v1, LoRA shrink auto, hand-written LM head, packaged PTX, no collective checks, kernels
     * checked on first use, the fused LM-head loss.
     *
     * @return the default tuning
     */
    public static Tuning defaults() {
        return new Tuning(HopperGemm.V1, LoraShrink.AUTO, LmHeadBackend.KERNEL, PtxSource.PACKAGED, false, true);
    }

    /**
     * The defaults as overridden by the {@code tpk.*} system properties now: {@code tpk.gemm.hopper} ({@code v1},
     * {@code pingpong}, {@code false} for none; {@code true} means v1), {@code tpk.lora.shrink} ({@code auto},
     * {@code on-chip}, {@code separate}), {@code tpk.lmhead.backend} ({@code kernel}, {@code cublas}, {@code auto}),
     * {@code tpk.ptx.source} ({@code packaged}, {@code ptx}, {@code nvrtc}), {@code tpk.collective.checks}
     * ({@code true}, {@code false}), {@code tpk.selfcheck} ({@code true}, {@code false}), {@code tpk.lmhead.loss}
     * ({@code fused}, {@code chunked}, {@code unfused}). Read once, by whoever builds a context.
     *
     * @return the tuning the properties set now, the defaults where none is set
     * @throws IllegalArgumentException naming the property and the values it takes, for a value it does not
     */
    public static Tuning fromSystemProperties() {
        return fromProperties(System::getProperty);
    }

    /**
     * As {@link #fromSystemProperties()}, from {@code properties} (a property's value, or {@code null}).
     *
     * @param properties the value of a property by name, {@code null} where it is not set; values are trimmed and read
     *     case-insensitively
     * @return the tuning the properties set, the defaults where none is set
     * @throws IllegalArgumentException naming the property and the values it takes, for a value it does not
     */
    public static Tuning fromProperties(UnaryOperator<String> properties) {
        Tuning d = defaults();
        return new Tuning(
                parse(properties, "tpk.gemm.hopper", d.hopperGemm(), v -> switch (v) {
                    case "v1", "true" -> HopperGemm.V1;
                    case "pingpong" -> HopperGemm.PINGPONG;
                    case "false", "off" -> HopperGemm.OFF;
                    default -> null;
                }, "v1, pingpong or false"),
                parse(properties, "tpk.lora.shrink", d.loraShrink(), v -> switch (v) {
                    case "auto" -> LoraShrink.AUTO;
                    case "on-chip" -> LoraShrink.ON_CHIP;
                    case "separate" -> LoraShrink.SEPARATE;
                    default -> null;
                }, "auto, on-chip or separate"),
                parse(properties, "tpk.lmhead.backend", d.lmHeadBackend(), v -> switch (v) {
                    case "kernel" -> LmHeadBackend.KERNEL;
                    case "cublas" -> LmHeadBackend.CUBLAS;
                    case "auto" -> LmHeadBackend.AUTO;
                    default -> null;
                }, "kernel, cublas or auto"),
                parse(properties, "tpk.ptx.source", d.ptxSource(), v -> switch (v) {
                    case "packaged" -> PtxSource.PACKAGED;
                    case "ptx" -> PtxSource.PTX;
                    case "nvrtc" -> PtxSource.NVRTC;
                    default -> null;
                }, "packaged, ptx or nvrtc"),
                parse(properties, "tpk.collective.checks", d.collectiveChecks(), Tuning::bool, "true or false"),
                parse(properties, "tpk.selfcheck", d.selfCheck(), Tuning::bool, "true or false"),
                parse(properties, "tpk.lmhead.loss", d.lmHeadLoss(), v -> switch (v) {
                    case "fused" -> LmHeadLoss.FUSED;
                    case "chunked" -> LmHeadLoss.CHUNKED;
                    case "unfused" -> LmHeadLoss.UNFUSED;
                    default -> null;
                }, "fused, chunked or unfused"));
    }

    private static Boolean bool(String v) {
        return switch (v) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            default -> null;
        };
    }

    private static <T> T parse(UnaryOperator<String> properties, String key, T fallback,
                               Function<String, T> values, String expected) {
        String raw = properties.apply(key);
        if (raw == null) {
            return fallback;
        }
        T value = values.apply(raw.trim().toLowerCase(Locale.ROOT));
        if (value == null) {
            throw new IllegalArgumentException(key + "=" + raw + ": expected " + expected);
        }
        return value;
    }

    /**
     * This tuning with another Hopper GEMM.
     *
     * @param value the Hopper GEMM kernels, or {@link HopperGemm#OFF}
     * @return a new tuning, the same in every other choice
     */
    public Tuning withHopperGemm(HopperGemm value) {
        return new Tuning(value, loraShrink, lmHeadBackend, ptxSource, collectiveChecks, selfCheck, lmHeadLoss);
    }

    /**
     * This tuning with another place for the LoRA shrink at prefill.
     *
     * @param value where the shrink runs
     * @return a new tuning, the same in every other choice
     */
    public Tuning withLoraShrink(LoraShrink value) {
        return new Tuning(hopperGemm, value, lmHeadBackend, ptxSource, collectiveChecks, selfCheck, lmHeadLoss);
    }

    /**
     * This tuning with another LM-head backend.
     *
     * @param value who computes the LM head on a GPU
     * @return a new tuning, the same in every other choice
     */
    public Tuning withLmHeadBackend(LmHeadBackend value) {
        return new Tuning(hopperGemm, loraShrink, value, ptxSource, collectiveChecks, selfCheck, lmHeadLoss);
    }

    /**
     * This tuning with another source of kernel code.
     *
     * @param value where kernel code comes from
     * @return a new tuning, the same in every other choice
     */
    public Tuning withPtxSource(PtxSource value) {
        return new Tuning(hopperGemm, loraShrink, lmHeadBackend, value, collectiveChecks, selfCheck, lmHeadLoss);
    }

    /**
     * This tuning with NCCL's cross-rank argument checks on or off.
     *
     * @param value whether collectives check their arguments across ranks first
     * @return a new tuning, the same in every other choice
     */
    public Tuning withCollectiveChecks(boolean value) {
        return new Tuning(hopperGemm, loraShrink, lmHeadBackend, ptxSource, value, selfCheck, lmHeadLoss);
    }

    /**
     * This tuning with the kernels' first-use self-check on or off.
     *
     * @param value whether kernels are checked against the CPU reference on first use
     * @return a new tuning, the same in every other choice
     */
    public Tuning withSelfCheck(boolean value) {
        return new Tuning(hopperGemm, loraShrink, lmHeadBackend, ptxSource, collectiveChecks, value, lmHeadLoss);
    }

    /**
     * This tuning with another way of computing the LM head's loss in training.
     *
     * @param value fused or unfused
     * @return a new tuning, the same in every other choice
     */
    public Tuning withLmHeadLoss(LmHeadLoss value) {
        return new Tuning(hopperGemm, loraShrink, lmHeadBackend, ptxSource, collectiveChecks, selfCheck, value);
    }
}
