package io.tpkernels.layers;

import io.tpkernels.ops.Cast;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.train.Parameter;
import java.util.ArrayList;
import java.util.List;

/**
 * One LoRA layer's factors as an optimizer trains them (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#17-adamw-and-gradient-clipping">section 17</a>):
 * F32 master weights whatever the layer computes in. In F32 the masters are the layer's own {@code A} and {@code B},
 * updated in place; in F16 or BF16 they are F32 copies made here, and {@link #publish()} rounds them into the layer's
 * tensors after each optimizer step (the forward reads those). The gradients are the layer's own.
 */
public final class LoraParameters implements AutoCloseable {
    private final LoraLayer layer;
    private final Tensor masterA;
    private final Tensor masterB;
    private final List<Parameter> parameters;

    private LoraParameters(LoraLayer layer, Tensor masterA, Tensor masterB, String module) {
        this.layer = layer;
        this.masterA = masterA;
        this.masterB = masterB;
        this.parameters = List.of(
                new Parameter(module + ".lora_A", masterA, layer.loraGradA(), layer.placementOfA()),
                new Parameter(module + ".lora_B", masterB, layer.loraGradB(), layer.placementOfB()));
    }

    /**
     * The trainable factors of {@code layer}, named {@code module.lora_A} and {@code module.lora_B} in messages.
     *
     * @param module the module's name, as the optimizer's messages name its parameters
     * @param layer the LoRA layer; its factors and gradients must stay open while this object is used
     * @return the parameters, owned by the caller (closing them frees only copies made here)
     * @throws UnsupportedOperationException for a DoRA adapter (its training is not built)
     */
    public static LoraParameters of(String module, LoraLayer layer) {
        if (layer.isDora()) {
            throw new UnsupportedOperationException(module + ": the adapter is DoRA, whose training (the gradient"
                    + " through its scale m/‖W + s·B·A‖_row) is not built; only plain LoRA trains");
        }
        if (layer.loraA().dtype() == DType.F32) {
            return new LoraParameters(layer, layer.loraA(), layer.loraB(), module);
        }
        var exec = layer.rankContext().exec();
        Tensor a = Cast.to(exec, layer.loraA(), DType.F32);
        try {
            return new LoraParameters(layer, a, Cast.to(exec, layer.loraB(), DType.F32), module);
        } catch (RuntimeException e) {
            a.close();
            throw e;
        }
    }

    /**
     * {@code [A, B]}: F32 masters and the layer's gradients, with the layer's placements.
     *
     * @return the two parameters, an unmodifiable list
     */
    public List<Parameter> parameters() {
        return parameters;
    }

    /** After an optimizer step: the masters rounded into the layer's F16/BF16 factors (queued); nothing in F32. */
    public void publish() {
        if (masterA != layer.loraA()) {
            var exec = layer.rankContext().exec();
            Cast.into(exec, masterA, layer.loraA());
            Cast.into(exec, masterB, layer.loraB());
        }
    }

    /** The layer's gradients back to zero, for the next step. */
    public void zeroGrad() {
        layer.zeroGrad();
    }

    /**
     * All the parameters of {@code layers}, in order.
     *
     * @param layers the layers' parameters
     * @return their parameters, {@code A} then {@code B} of each layer in turn
     */
    public static List<Parameter> all(List<LoraParameters> layers) {
        List<Parameter> out = new ArrayList<>();
        layers.forEach(l -> out.addAll(l.parameters()));
        return out;
    }

    /** Frees the masters made here; the layer's own tensors stay the layer's. */
    @Override
    public void close() {
        if (masterA != layer.loraA()) {
            try (Tensor b = masterB) {
                masterA.close();
            }
        }
    }
}
