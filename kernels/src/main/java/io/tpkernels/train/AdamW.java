package io.tpkernels.train;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Memory;
import io.tpkernels.runtime.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * AdamW as PyTorch defines it (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#17-adamw-and-gradient-clipping">section 17</a>),
 * per parameter {@code p} with gradient {@code g} at step {@code t}, counted from 1:
 * <pre>
 *   p ← p·(1 − lr·wd)
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − lr·(m/(1 − β1ᵗ)) / (√(v/(1 − β2ᵗ)) + ε)
 * </pre>
 * Master weights and the state {@code m}, {@code v} are F32. Each element's update is computed in double from the
 * stored F32 values and each of {@code m}, {@code v} and {@code p} is rounded to F32 once per step, so the stored
 * state alone determines the next step. The arithmetic depends on nothing but the element's own values and the
 * step, so a {@link Placement#REPLICATED} parameter with the same gradient on every rank stays bit-identical on
 * every rank. No collective: clip first ({@link GradClipping}), then step.
 *
 * <p>On a GPU the step is one kernel per parameter ({@code tpk_adamw_f32}, queued on the context's stream) doing the
 * same double operations in the same order, each rounded as written (no fused multiply-adds), so it gives the CPU's
 * bits.
 */
public final class AdamW implements AutoCloseable {
    private final AdamWConfig config;
    private final List<Parameter> parameters;
    private final List<Tensor> firstMoments = new ArrayList<>();
    private final List<Tensor> secondMoments = new ArrayList<>();
    private long steps;

    /**
     * An optimizer over {@code parameters}, with {@code m = v = 0} allocated on {@code ctx}.
     *
     * @param ctx the context the state is allocated on; every parameter lives on its device
     * @param config the hyperparameters
     * @param parameters the parameters to train, F32; copied, and stepped in this order
     * @throws IllegalArgumentException when a parameter or its gradient is not on {@code ctx}'s device
     */
    public AdamW(ExecutionContext ctx, AdamWConfig config, List<Parameter> parameters) {
        this.config = config;
        this.parameters = List.copyOf(parameters);
        try {
            for (Parameter p : this.parameters) {
                requireOn(ctx, p);
                firstMoments.add(Tensor.zeros(ctx, DType.F32, p.value().shape()));
                secondMoments.add(Tensor.zeros(ctx, DType.F32, p.value().shape()));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * The parameters, in the order given.
     *
     * @return an unmodifiable list
     */
    public List<Parameter> parameters() {
        return parameters;
    }

    /**
     * The steps taken so far: {@code t} of the last step, 0 before the first.
     *
     * @return the step count
     */
    public long steps() {
        return steps;
    }

    /**
     * The first moment {@code m} of parameter {@code index}, owned by this optimizer.
     *
     * @param index the parameter's position in {@link #parameters()}
     * @return the F32 tensor of the parameter's shape; valid until {@link #close()}
     * @throws IndexOutOfBoundsException when {@code index} is out of range
     */
    public Tensor firstMoment(int index) {
        return firstMoments.get(index);
    }

    /**
     * The second moment {@code v} of parameter {@code index}, owned by this optimizer.
     *
     * @param index the parameter's position in {@link #parameters()}
     * @return the F32 tensor of the parameter's shape; valid until {@link #close()}
     * @throws IndexOutOfBoundsException when {@code index} is out of range
     */
    public Tensor secondMoment(int index) {
        return secondMoments.get(index);
    }

    /**
     * One step of every parameter with the configured learning rate.
     *
     * @param ctx the context the update runs on (queued on its stream on a GPU), on the parameters' device
     * @throws IllegalArgumentException when a parameter or its gradient is not on {@code ctx}'s device
     */
    public void step(ExecutionContext ctx) {
        step(ctx, config.lr());
    }

    /**
     * One step of every parameter with learning rate {@code lr} (a schedule's value for this step).
     *
     * @param ctx the context the update runs on (queued on its stream on a GPU), on the parameters' device
     * @param lr the learning rate of this step, finite and {@code >= 0}
     * @throws IllegalArgumentException when {@code lr} is negative, infinite or NaN, or a parameter or its gradient is
     *     not on {@code ctx}'s device
     */
    public void step(ExecutionContext ctx, double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("AdamW: learning rate must be finite and >= 0, got " + lr);
        }
        for (Parameter p : parameters) {
            requireOn(ctx, p);
        }
        long t = steps + 1;
        for (int i = 0; i < parameters.size(); i++) {
            if (ctx.isCuda()) {
                AdamWCuda.update(ctx, parameters.get(i), firstMoments.get(i), secondMoments.get(i), config, lr, t);
            } else {
                update(parameters.get(i), firstMoments.get(i), secondMoments.get(i), lr, t);
            }
        }
        steps = t;
    }

    /** The parameter and its gradient: F32 (as {@link Parameter} requires) on the context's device. */
    private static void requireOn(ExecutionContext ctx, Parameter p) {
        ctx.requireOn("AdamW " + p.name(), p.value());
        ctx.requireOn("AdamW " + p.name() + " gradient", p.grad());
    }

    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    private void update(Parameter param, Tensor m, Tensor v, double lr, long t) {
        double beta1 = config.beta1();
        double beta2 = config.beta2();
        double decay = 1 - lr * config.weightDecay();
        double correction1 = 1 - Math.pow(beta1, t);
        double correction2 = 1 - Math.pow(beta2, t);
        try (Memory.Access use = Tensor.acquireAll(param.value(), param.grad(), m, v)) {
            MemorySegment ps = param.value().hostSegment();
            MemorySegment gs = param.grad().hostSegment();
            MemorySegment ms = m.hostSegment();
            MemorySegment vs = v.hostSegment();
            for (long i = 0; i < m.numel(); i++) {
                double g = DType.F32.getFloat(gs, i);
                float mi = (float) (beta1 * DType.F32.getFloat(ms, i) + (1 - beta1) * g);
                float vi = (float) (beta2 * DType.F32.getFloat(vs, i) + (1 - beta2) * g * g);
                double p = DType.F32.getFloat(ps, i) * decay;
                p -= lr * (mi / correction1) / (Math.sqrt(vi / correction2) + config.eps());
                DType.F32.setFloat(ms, i, mi);
                DType.F32.setFloat(vs, i, vi);
                DType.F32.setFloat(ps, i, (float) p);
            }
        }
    }

    /** Frees {@code m} and {@code v}; the parameters are the caller's. */
    @Override
    public void close() {
        firstMoments.forEach(Tensor::close);
        secondMoments.forEach(Tensor::close);
    }
}
