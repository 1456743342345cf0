package io.tpkernels.layers.model;

import io.tpkernels.layers.weights.TensorInfo;
import io.tpkernels.layers.weights.TensorRead;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.runtime.Tensor;
import java.util.Map;
import java.util.Set;

/**
 * The base model's weights with the modules an adapter's {@code modules_to_save} replaces read from the adapter
 * instead (PEFT's {@code ModulesToSaveWrapper}: the adapter's full copy of a module is used in its place). Owns
 * neither source: closing it closes nothing.
 */
final class SavedModules implements WeightSource {
    private final WeightSource base;
    private final WeightSource adapter;
    private final Map<String, String> replaced;

    /** {@code replaced} maps a base tensor's name to the adapter tensor that replaces it (shapes already checked). */
    SavedModules(WeightSource base, WeightSource adapter, Map<String, String> replaced) {
        this.base = base;
        this.adapter = adapter;
        this.replaced = Map.copyOf(replaced);
    }

    @Override
    public String describe() {
        return base.describe() + " with modules_to_save from " + adapter.describe();
    }

    @Override
    public Set<String> names() {
        return base.names();
    }

    @Override
    public TensorInfo info(String name) {
        String copy = replaced.get(name);
        return copy == null ? base.info(name) : new TensorInfo(name, adapter.info(copy).dtype(), adapter.info(copy).shape());
    }

    @Override
    public Tensor view(String name) {
        String copy = replaced.get(name);
        return copy == null ? base.view(name) : adapter.view(copy);
    }

    @Override
    public TensorRead read(String name, long firstByte, long endByte) {
        String copy = replaced.get(name);
        return copy == null ? base.read(name, firstByte, endByte) : adapter.read(copy, firstByte, endByte);
    }

    @Override
    public void close() {
        // the sources belong to whoever opened them
    }
}
