package io.tpkernels.train;

/**
 * The hyperparameters of {@link AdamW}, PyTorch's names and defaults: {@code β1 = 0.9}, {@code β2 = 0.999},
 * {@code ε = 1e-8}, weight decay 0.
 *
 * @param lr          the learning rate, {@code ≥ 0}
 * @param beta1       the first moment's decay, in {@code [0, 1)}
 * @param beta2       the second moment's decay, in {@code [0, 1)}
 * @param eps         added to the denominator, {@code ≥ 0}
 * @param weightDecay the decoupled weight decay, {@code ≥ 0}
 */
public record AdamWConfig(double lr, double beta1, double beta2, double eps, double weightDecay) {

    /** Checks the ranges PyTorch checks; NaN is in none of them. */
    public AdamWConfig {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("AdamW: learning rate must be finite and >= 0, got " + lr);
        }
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("AdamW: betas must lie in [0, 1), got " + beta1 + " and " + beta2);
        }
        if (!(eps >= 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("AdamW: epsilon must be finite and >= 0, got " + eps);
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("AdamW: weight decay must be finite and >= 0, got " + weightDecay);
        }
    }

    /**
     * The defaults with learning rate {@code lr}.
     *
     * @param lr the learning rate, finite and {@code >= 0}
     * @return the config
     * @throws IllegalArgumentException when {@code lr} is negative, infinite or NaN
     */
    public static AdamWConfig of(double lr) {
        return new AdamWConfig(lr, 0.9, 0.999, 1e-8, 0);
    }

    /**
     * This config with weight decay {@code wd}.
     *
     * @param wd the decoupled weight decay, finite and {@code >= 0}
     * @return a new config, the same otherwise
     * @throws IllegalArgumentException when {@code wd} is out of range
     */
    public AdamWConfig withWeightDecay(double wd) {
        return new AdamWConfig(lr, beta1, beta2, eps, wd);
    }

    /**
     * This config with betas {@code b1} and {@code b2}.
     *
     * @param b1 the first moment's decay, in {@code [0, 1)}
     * @param b2 the second moment's decay, in {@code [0, 1)}
     * @return a new config, the same otherwise
     * @throws IllegalArgumentException when a beta is out of range
     */
    public AdamWConfig withBetas(double b1, double b2) {
        return new AdamWConfig(lr, b1, b2, eps, weightDecay);
    }

    /**
     * This config with epsilon {@code e}.
     *
     * @param e the denominator's epsilon, finite and {@code >= 0}
     * @return a new config, the same otherwise
     * @throws IllegalArgumentException when {@code e} is out of range
     */
    public AdamWConfig withEps(double e) {
        return new AdamWConfig(lr, beta1, beta2, e, weightDecay);
    }
}
