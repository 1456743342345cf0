package io.tpkernels.bench;

import io.tpkernels.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;

/** The tensors one benchmark shape allocates, closed together. */
final class Owned implements AutoCloseable {
    private final List<Tensor> tensors = new ArrayList<>();

    /** Keeps {@code t} for closing and returns it. */
    Tensor add(Tensor t) {
        tensors.add(t);
        return t;
    }

    @Override
    public void close() {
        tensors.forEach(Tensor::close);
        tensors.clear();
    }
}
