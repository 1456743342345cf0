package io.tpkernels.layers.model;

import io.tpkernels.layers.ColumnParallelLinear;
import io.tpkernels.layers.LoraColumnParallelLinear;
import io.tpkernels.layers.LoraLayer;
import io.tpkernels.layers.LoraRowParallelLinear;
import io.tpkernels.layers.LoraSource;
import io.tpkernels.layers.RankContext;
import io.tpkernels.layers.RowParallelLinear;
import io.tpkernels.layers.Tokens;
import io.tpkernels.layers.model.DemoModelNames.Projection;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.ops.Elementwise;
import io.tpkernels.ops.SwiGluBackward;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * One layer of the demo model (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#13-the-demo-model">section 13</a>):
 * {@code h = h + down(silu(gate(h)) ⊙ up(h))}, with gate and up column-parallel (output left sharded, no collective)
 * and down row-parallel (its input is the sharded product; one all-reduce). With LoRA on any projection the layer still
 * issues that one collective.
 */
public final class MlpBlock implements AutoCloseable {
    private final ColumnParallelLinear gate;
    private final ColumnParallelLinear up;
    private final RowParallelLinear down;

    private MlpBlock(ColumnParallelLinear gate, ColumnParallelLinear up, RowParallelLinear down) {
        this.gate = gate;
        this.up = up;
        this.down = down;
    }

    /**
     * Layer {@code layer}'s shards from {@code source}; LoRA where {@code adapters} has some.
     *
     * @param source the model's weights
     * @param layer the layer's index in the whole model
     * @param hidden {@code H}, divisible by tp
     * @param intermediate {@code I}, divisible by tp
     * @param ctx this rank's group, device and precision
     * @param adapters the LoRA adapters, or {@link LoraAdapters#NONE}
     * @return the block, owning its three layers; the caller closes it
     * @throws io.tpkernels.layers.weights.WeightException when a tensor is missing, of another shape or not float
     * @throws IllegalArgumentException when tp does not divide {@code H} or {@code I}
     * @throws io.tpkernels.collective.CollectiveException when the group fails while a fresh adapter is shared
     */
    public static MlpBlock load(WeightSource source, int layer, long hidden, long intermediate, RankContext ctx,
                                LoraAdapters adapters) {
        ColumnParallelLinear gate = null;
        ColumnParallelLinear up = null;
        try {
            gate = column(source, layer, Projection.GATE, hidden, intermediate, ctx, adapters);
            up = column(source, layer, Projection.UP, hidden, intermediate, ctx, adapters);
            String name = DemoModelNames.weight(layer, Projection.DOWN);
            Optional<LoraSource> lora = adapters.forProjection(layer, Projection.DOWN);
            RowParallelLinear down = lora.isPresent()
                    ? LoraRowParallelLinear.load(source, name, null, hidden, intermediate, ctx, true, Tokens.REPLICATED,
                    lora.get())
                    : RowParallelLinear.load(source, name, null, hidden, intermediate, ctx, true, Tokens.REPLICATED);
            return new MlpBlock(gate, up, down);
        } catch (RuntimeException e) {
            if (gate != null) {
                gate.close();
            }
            if (up != null) {
                up.close();
            }
            throw e;
        }
    }

    private static ColumnParallelLinear column(WeightSource source, int layer, Projection p, long hidden,
                                               long intermediate, RankContext ctx, LoraAdapters adapters) {
        String name = DemoModelNames.weight(layer, p);
        Optional<LoraSource> lora = adapters.forProjection(layer, p);
        return lora.isPresent()
                ? LoraColumnParallelLinear.load(source, name, null, intermediate, hidden, ctx, Tokens.REPLICATED, false,
                lora.get())
                : ColumnParallelLinear.load(source, name, null, intermediate, hidden, ctx, Tokens.REPLICATED, false);
    }

    /** The layer of projection {@code p}: a column-parallel one for gate and up, the row-parallel one for down. */
    Object projection(Projection p) {
        return switch (p) {
            case GATE -> gate;
            case UP -> up;
            case DOWN -> down;
        };
    }

    /**
     * {@code h += down(silu(gate(h)) ⊙ up(h))}, in place, queued on {@code exec}; {@code h} is {@code [T, H]}
     * replicated.
     *
     * @param exec this rank's execution context
     * @param h the hidden states {@code [T, H]} in the layer's precision, replicated; updated in place
     * @throws IllegalArgumentException when {@code h}'s shape, dtype or device does not fit
     * @throws io.tpkernels.collective.CollectiveException when the group fails or the ranks' calls disagree
     */
    public void forwardInPlace(ExecutionContext exec, Tensor h) {
        try (Tensor g = gate.forward(h);
             Tensor u = up.forward(h);
             Tensor act = Elementwise.siluMul(exec, g, u);
             Tensor d = down.forward(act)) {
            Elementwise.addInPlace(exec, h, d);
        }
    }

    /**
     * What a training forward keeps for the backward, and only that: the block's input when gate or up carries LoRA
     * (their {@code dA} reads it), the gate and up products (SwiGLU's backward), and their product {@code act} when
     * down carries LoRA. Owns them.
     *
     * @param input the block's input {@code [T, H]}, or {@code null} when neither gate nor up carries LoRA
     * @param gate the gate projection's output {@code [T, I/tp]}
     * @param up the up projection's output {@code [T, I/tp]}
     * @param act {@code silu(gate) ⊙ up}, or {@code null} when down carries no LoRA
     */
    public record Saved(Tensor input, Tensor gate, Tensor up, Tensor act) implements AutoCloseable {
        @Override
        public void close() {
            try (Tensor i = input; Tensor g = gate; Tensor u = up; Tensor a = act) {
                // all four closed; the absent ones are null
            }
        }
    }

    /**
     * The block's output and what its backward needs.
     *
     * @param output the block's output {@code [T, H]}, owned by the caller
     * @param saved what the backward needs, owned by the caller until {@link MlpBlock#backward} takes it
     */
    public record Traced(Tensor output, Saved saved) {
    }

    /**
     * {@code h + down(silu(gate(h)) ⊙ up(h))} as a new tensor, keeping what {@link #backward} needs; takes {@code h}
     * (kept as the saved input, or closed). The output is the same bits as {@link #forwardInPlace}'s.
     *
     * @param exec this rank's execution context
     * @param h the hidden states {@code [T, H]} in the layer's precision, replicated; taken by this call
     * @return the output and what the backward needs
     * @throws IllegalArgumentException when {@code h}'s shape, dtype or device does not fit
     * @throws io.tpkernels.collective.CollectiveException when the group fails or the ranks' calls disagree
     */
    public Traced forwardTraced(ExecutionContext exec, Tensor h) {
        boolean inputNeeded = gate instanceof LoraColumnParallelLinear || up instanceof LoraColumnParallelLinear;
        Tensor g = null;
        Tensor u = null;
        Tensor act = null;
        try {
            g = gate.forward(h);
            u = up.forward(h);
            act = Elementwise.siluMul(exec, g, u);
            Tensor out = down.forward(act);
            Elementwise.addInPlace(exec, out, h); // d + h: the same sum as h + d
            if (!(down instanceof LoraRowParallelLinear)) {
                act.close();
                act = null;
            }
            if (!inputNeeded) {
                h.close();
            }
            return new Traced(out, new Saved(inputNeeded ? h : null, g, u, act));
        } catch (RuntimeException e) {
            try (Tensor a = act; Tensor uu = u; Tensor gg = g; Tensor hh = h) {
                throw e;
            }
        }
    }

    /**
     * The gradient of the block's input from {@code dh}, that of its output (F32 {@code [T, H]}): the residual's
     * {@code dh} plus what flows back through down, SwiGLU, gate and up; the LoRA layers add their {@code dA} and
     * {@code dB} into their gradients. Collectives: each layer's own (down's, then gate's and up's). Closes
     * {@code saved}; {@code dh} stays the caller's. Returns F32 {@code [T, H]}, the caller's.
     *
     * @param exec this rank's execution context
     * @param saved what {@link #forwardTraced} kept; closed by this call
     * @param dh the gradient of the block's output, {@code [T, H]} in a float dtype
     * @return the gradient of the block's input
     * @throws UnsupportedOperationException when a projection carries a DoRA adapter
     * @throws IllegalArgumentException when {@code dh}'s shape, dtype or device does not fit
     * @throws io.tpkernels.collective.CollectiveException when the group fails or the ranks' calls disagree
     */
    public Tensor backward(ExecutionContext exec, Saved saved, Tensor dh) {
        try (saved;
             Tensor dAct = down.backward(saved.act(), dh);
             SwiGluBackward.Gradients d = SwiGluBackward.backward(exec, saved.gate(), saved.up(), dAct);
             Tensor dUp = up.backward(saved.input(), d.dUp())) {
            Tensor dIn = gate.backward(saved.input(), d.dGate());
            try {
                Elementwise.addInPlace(exec, dIn, dh);
                Elementwise.addInPlace(exec, dIn, dUp);
                return dIn;
            } catch (RuntimeException e) {
                dIn.close();
                throw e;
            }
        }
    }

    /**
     * The block's LoRA layers by projection, in the order gate, up, down.
     *
     * @return the LoRA layers, without the projections that carry none
     */
    public Map<Projection, LoraLayer> loraLayers() {
        Map<Projection, LoraLayer> out = new EnumMap<>(Projection.class);
        for (Projection p : Projection.values()) {
            if (projection(p) instanceof LoraLayer l) {
                out.put(p, l);
            }
        }
        return out;
    }

    @Override
    public void close() {
        try (gate; up; down) {
            // all three closed, in reverse order, even if one throws
        }
    }
}
