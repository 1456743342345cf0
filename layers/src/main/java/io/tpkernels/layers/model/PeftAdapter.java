package io.tpkernels.layers.model;

import io.tpkernels.layers.LoraSource;
import io.tpkernels.layers.config.AdapterConfig;
import io.tpkernels.layers.model.DemoModelNames.Projection;
import io.tpkernels.layers.weights.WeightException;
import io.tpkernels.layers.weights.WeightSource;
import java.util.Optional;

/**
 * A PEFT LoRA adapter for the demo model: its {@code adapter_config.json} and its tensors under PEFT's names
 * ({@code base_model.model.model.layers.{i}.mlp.{proj}.lora_{A,B}.weight}). A projection carries LoRA when
 * the config targets its module; its tensors must then exist, and {@code A}'s rank must be the config's
 * {@code r} (checked when each rank loads its layer, so that the error names tp and the rank).
 *
 * @param config  the adapter's configuration
 * @param weights its tensors (not closed by this record)
 */
public record PeftAdapter(AdapterConfig config, WeightSource weights) implements LoraAdapters {

    @Override
    public Optional<LoraSource> forProjection(int layer, Projection projection) {
        if (!config.targets(projection.module())) {
            return Optional.empty();
        }
        String a = DemoModelNames.loraA(layer, projection);
        String b = DemoModelNames.loraB(layer, projection);
        for (String name : new String[] {a, b}) {
            if (!weights.contains(name)) {
                throw new WeightException(weights.describe() + " has no tensor " + name + ", but the adapter targets "
                        + projection.module());
            }
        }
        // A's rank is checked against r where the layer loads it, so that the error names tp and the rank too.
        return Optional.of(new LoraSource.FromAdapter(weights, a, b, config.scale(), config.rank()));
    }
}
