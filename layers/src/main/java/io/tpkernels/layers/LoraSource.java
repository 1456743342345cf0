package io.tpkernels.layers;

import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.ops.LoraLinear;
import java.util.Objects;

/** Where a LoRA layer's {@code A} and {@code B} come from: a fresh rank-consistent initialisation, or an adapter. */
public sealed interface LoraSource {

    /** The scale {@code s} of {@code y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ}. */
    float scale();

    /**
     * A fresh adapter of rank {@code rank}: {@code A} drawn Kaiming-uniform ({@code a = √5}, as PEFT) from
     * {@code seed} on rank 0 and shared with the others, {@code B} zero (docs/contract.md section 8).
     */
    record Initialized(int rank, float scale, long seed) implements LoraSource {
        public Initialized {
            if (rank < 1 || rank > LoraLinear.MAX_RANK) {
                throw new IllegalArgumentException("LoRA rank " + rank + " is outside [1, " + LoraLinear.MAX_RANK + "]");
            }
        }
    }

    /**
     * {@code A} ({@code [R, K]}) and {@code B} ({@code [N, R]}) read from {@code weights}, full or already sharded;
     * with DoRA also the magnitude vector {@code m} ({@code [N]}).
     *
     * @param expectedRank  the adapter's {@code r} for this module from its configuration, which {@code A}'s first
     *                      dimension must equal; 0 takes whatever {@code R} {@code A} has
     * @param magnitudeName DoRA's {@code lora_magnitude_vector}, or {@code null} for plain LoRA
     */
    record FromAdapter(WeightSource weights, String aName, String bName, float scale, int expectedRank,
                       String magnitudeName) implements LoraSource {
        public FromAdapter {
            Objects.requireNonNull(weights, "weights");
            Objects.requireNonNull(aName, "aName");
            Objects.requireNonNull(bName, "bName");
            if (expectedRank < 0 || expectedRank > LoraLinear.MAX_RANK) {
                throw new IllegalArgumentException("LoRA rank " + expectedRank + " is outside [1, " + LoraLinear.MAX_RANK
                        + "] (0: A's own)");
            }
        }

        /** Plain LoRA whose rank must be {@code expectedRank}. */
        public FromAdapter(WeightSource weights, String aName, String bName, float scale, int expectedRank) {
            this(weights, aName, bName, scale, expectedRank, null);
        }

        /** Plain LoRA whose rank is whatever {@code A}'s first dimension says. */
        public FromAdapter(WeightSource weights, String aName, String bName, float scale) {
            this(weights, aName, bName, scale, 0, null);
        }

        /** Whether this is a DoRA adapter. */
        public boolean isDora() {
            return magnitudeName != null;
        }
    }
}
