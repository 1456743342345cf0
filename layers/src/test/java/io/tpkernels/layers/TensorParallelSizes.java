package io.tpkernels.layers;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ArbitrarySupplier;

/** The tensor-parallel sizes issue 8's layer properties range over: {@code @ForAll(supplier = TensorParallelSizes.class)}. */
public final class TensorParallelSizes implements ArbitrarySupplier<Integer> {
    @Override
    public Arbitrary<Integer> get() {
        return Arbitraries.of(1, 2, 3, 4, 8);
    }
}
