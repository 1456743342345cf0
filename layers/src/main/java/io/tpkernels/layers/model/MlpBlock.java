package io.tpkernels.layers.model;

import io.tpkernels.layers.ColumnParallelLinear;
import io.tpkernels.layers.LoraColumnParallelLinear;
import io.tpkernels.layers.LoraRowParallelLinear;
import io.tpkernels.layers.LoraSource;
import io.tpkernels.layers.RankContext;
import io.tpkernels.layers.RowParallelLinear;
import io.tpkernels.layers.Tokens;
import io.tpkernels.layers.model.DemoModelNames.Projection;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.ops.Elementwise;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import java.util.Optional;

/**
 * One layer of the demo model (docs/contract.md section 13): {@code h = h + down(silu(gate(h)) ⊙ up(h))}, with
 * gate and up column-parallel (output left sharded, no collective) and down row-parallel (its input is the
 * sharded product; one all-reduce). With LoRA on any projection the layer still issues that one collective.
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

    /** Layer {@code layer}'s shards from {@code source}; LoRA where {@code adapters} has some. */
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
     */
    public void forwardInPlace(ExecutionContext exec, Tensor h) {
        try (Tensor g = gate.forward(h);
             Tensor u = up.forward(h);
             Tensor act = Elementwise.siluMul(exec, g, u);
             Tensor d = down.forward(act)) {
            Elementwise.addInPlace(exec, h, d);
        }
    }

    @Override
    public void close() {
        try (gate; up; down) {
            // all three closed, in reverse order, even if one throws
        }
    }
}
