package io.tpkernels.testkit;

/**
 * The shapes of a linear layer {@code y[T, N] = x[T, K] · W[N, K]ᵀ} that a tensor-parallel split of size
 * {@code tp} accepts: {@code N % tp == 0} (column-parallel) and {@code K % tp == 0} (row-parallel).
 *
 * @param tp          the tensor-parallel size
 * @param tokens      {@code T ≥ 1}
 * @param inFeatures  {@code K}, a multiple of {@code tp}
 * @param outFeatures {@code N}, a multiple of {@code tp}
 */
public record ShardedLinearShape(int tp, long tokens, long inFeatures, long outFeatures) {

    /**
     * {@code [T, K]}.
     *
     * @return a new array
     */
    public long[] inputShape() {
        return new long[] {tokens, inFeatures};
    }

    /**
     * {@code [N, K]}.
     *
     * @return a new array
     */
    public long[] weightShape() {
        return new long[] {outFeatures, inFeatures};
    }

    /**
     * {@code [T, N]}.
     *
     * @return a new array
     */
    public long[] outputShape() {
        return new long[] {tokens, outFeatures};
    }
}
