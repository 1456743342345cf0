package io.tpkernels.bench.cases;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The tensors one shape's measurement holds on the bench's device, freed together by {@link #close()}: in
 * {@code tpk bench} and in the JMH benchmarks alike.
 */
public final class Tensors implements AutoCloseable {
    private final Device device;
    private final SplittableRandom random;
    private final List<Tensor> owned = new ArrayList<>();

    /** An empty scope for tensors on {@code device}, whose random inputs are drawn from {@code seed}. */
    public Tensors(Device device, long seed) {
        this.device = device;
        this.random = new SplittableRandom(seed);
    }

    /** The random source of this shape's inputs (token ids are drawn by the caller, who counts them). */
    public SplittableRandom random() {
        return random;
    }

    /** Random floats of {@code dtype} (see {@link RandomTensors}). */
    public Tensor floats(DType dtype, long... shape) {
        return onDevice(RandomTensors.floats(dtype, random, shape));
    }

    /** These token ids as an I32 tensor. */
    public Tensor ids(long[] values) {
        return onDevice(Tensor.ofLongs(DType.I32, values, values.length));
    }

    /** An uninitialised tensor (an output). */
    public Tensor empty(DType dtype, long... shape) {
        return keep(Tensor.allocate(device, dtype, shape));
    }

    /** Another copy of {@code t} at another address: a further input set holding the same values. */
    public Tensor copyOf(Tensor t) {
        return keep(t.copyTo(device));
    }

    private Tensor onDevice(Tensor host) {
        if (!device.isCuda()) {
            return keep(host);
        }
        try (host) {
            return keep(host.copyTo(device));
        }
    }

    private Tensor keep(Tensor t) {
        owned.add(t);
        return t;
    }

    @Override
    public void close() {
        owned.forEach(Tensor::close);
        owned.clear();
    }
}
