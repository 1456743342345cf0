package io.tpkernels.layers.weights;

import io.tpkernels.runtime.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A {@link WeightSource} over host tensors held in memory (tests, generated models). It owns the tensors it
 * was given and closes them when closed.
 */
public final class InMemoryWeights implements WeightSource {
    private final String name;
    private final Map<String, Tensor> tensors;

    /**
     * A source named {@code name} holding {@code tensors} (host tensors; ownership passes to the source).
     *
     * @param name how messages name the source
     * @param tensors the tensors by name, each a host tensor; the map is copied, in its iteration order
     * @throws IllegalArgumentException when a tensor is on a GPU
     */
    public InMemoryWeights(String name, Map<String, Tensor> tensors) {
        this.name = name;
        this.tensors = new LinkedHashMap<>(tensors);
        for (Map.Entry<String, Tensor> e : this.tensors.entrySet()) {
            if (e.getValue().device().isCuda()) {
                throw new IllegalArgumentException(name + ": tensor " + e.getKey() + " is " + e.getValue().describe()
                        + "; a weight source holds host tensors");
            }
        }
    }

    @Override
    public String describe() {
        return name;
    }

    @Override
    public Set<String> names() {
        return java.util.Collections.unmodifiableSet(tensors.keySet());
    }

    @Override
    public TensorInfo info(String tensor) {
        Tensor t = get(tensor);
        return new TensorInfo(tensor, t.dtype(), t.shape());
    }

    @Override
    public Tensor view(String tensor) {
        Tensor t = get(tensor);
        return t.reshape(t.shape()); // a view: closing it leaves the source's tensor alone
    }

    private Tensor get(String tensor) {
        Tensor t = tensors.get(tensor);
        if (t == null) {
            throw new WeightException(name + " has no tensor " + tensor);
        }
        return t;
    }

    @Override
    public void close() {
        tensors.values().forEach(Tensor::close);
    }
}
