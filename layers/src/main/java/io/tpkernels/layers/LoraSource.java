package io.tpkernels.layers;

import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.ops.LoraLinear;
import java.util.Objects;

/** Where a LoRA layer's {@code A} and {@code B} come from: a fresh rank-consistent initialisation, or an adapter. */
public sealed interface LoraSource {

    /**
     * The scale {@code s} of {@code y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ}.
     *
     * @return {@code s}
     */
    float scale();

    /**
     * A fresh adapter of rank {@code rank}: {@code A} drawn Kaiming-uniform ({@code a = √5}, as PEFT) from {@code seed}
     * on rank 0 and shared with the others, {@code B} zero (the contract,
     * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#8-lora-under-tensor-parallelism">section 8</a>).
     *
     * @param rank {@code R}, in {@code [1, 256]}
     * @param scale {@code s}
     * @param seed the seed of {@code A}'s draws (rank 0 draws the full {@code A})
     */
    record Initialized(int rank, float scale, long seed) implements LoraSource {
        /**
         * Checks the rank.
         *
         * @param rank {@code R}
         * @param scale {@code s}
         * @param seed the seed of {@code A}'s draws
         * @throws IllegalArgumentException when {@code rank} is outside {@code [1, 256]}
         */
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
     * @param weights the adapter's tensors
     * @param aName {@code A}'s name in {@code weights}
     * @param bName {@code B}'s name in {@code weights}
     * @param scale {@code s}
     */
    record FromAdapter(WeightSource weights, String aName, String bName, float scale, int expectedRank,
                       String magnitudeName) implements LoraSource {
        /**
         * Checks the names and the rank.
         *
         * @param weights the adapter's tensors
         * @param aName {@code A}'s name
         * @param bName {@code B}'s name
         * @param scale {@code s}
         * @param expectedRank the rank {@code A} must have, or 0 for any
         * @param magnitudeName DoRA's magnitude vector's name, or {@code null}
         * @throws NullPointerException when {@code weights} or a factor's name is {@code null}
         * @throws IllegalArgumentException when {@code expectedRank} is outside {@code [0, 256]}
         */
        public FromAdapter {
            Objects.requireNonNull(weights, "weights");
            Objects.requireNonNull(aName, "aName");
            Objects.requireNonNull(bName, "bName");
            if (expectedRank < 0 || expectedRank > LoraLinear.MAX_RANK) {
                throw new IllegalArgumentException("LoRA rank " + expectedRank + " is outside [1, " + LoraLinear.MAX_RANK
                        + "] (0: A's own)");
            }
        }

        /**
         * Plain LoRA whose rank must be {@code expectedRank}.
         *
         * @param weights the adapter's tensors
         * @param aName {@code A}'s name in {@code weights}
         * @param bName {@code B}'s name in {@code weights}
         * @param scale {@code s}
         * @param expectedRank the rank {@code A} must have, in {@code [1, 256]}, or 0 for any
         */
        public FromAdapter(WeightSource weights, String aName, String bName, float scale, int expectedRank) {
            this(weights, aName, bName, scale, expectedRank, null);
        }

        /**
         * Plain LoRA whose rank is whatever {@code A}'s first dimension says.
         *
         * @param weights the adapter's tensors
         * @param aName {@code A}'s name in {@code weights}
         * @param bName {@code B}'s name in {@code weights}
         * @param scale {@code s}
         */
        public FromAdapter(WeightSource weights, String aName, String bName, float scale) {
            this(weights, aName, bName, scale, 0, null);
        }

        /**
         * Whether this is a DoRA adapter.
         *
         * @return whether a magnitude vector is named
         */
        public boolean isDora() {
            return magnitudeName != null;
        }
    }
}
