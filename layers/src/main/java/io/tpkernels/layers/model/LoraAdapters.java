package io.tpkernels.layers.model;

import io.tpkernels.layers.LoraSource;
import io.tpkernels.layers.model.DemoModelNames.Projection;
import java.util.Optional;

/** Which of the demo model's projections carry LoRA, and where each one's {@code A} and {@code B} come from. */
@FunctionalInterface
public interface LoraAdapters {

    /** No adapter anywhere. */
    LoraAdapters NONE = (layer, projection) -> Optional.empty();

    /**
     * The adapter of {@code projection} in layer {@code layer}, if it has one.
     *
     * @param layer the layer's index in the whole model
     * @param projection the MLP projection
     * @return where its {@code A} and {@code B} come from, or empty for none
     */
    Optional<LoraSource> forProjection(int layer, Projection projection);
}
