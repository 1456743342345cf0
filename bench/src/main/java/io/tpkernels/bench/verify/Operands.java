package io.tpkernels.bench.verify;

import io.tpkernels.bench.cases.RandomTensors;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.SplittableRandom;

/**
 * The tensors of one check: random inputs in host memory, their copies on the device, and results, all closed
 * together (last made, first closed).
 */
final class Operands implements AutoCloseable {
    private final Device device;
    private final SplittableRandom random;
    private final Deque<Tensor> owned = new ArrayDeque<>();

    Operands(Device device, long seed) {
        this.device = device;
        this.random = new SplittableRandom(seed);
    }

    /** Random floats of either sign in [0.5, 2) in host memory (never zero, subnormal or NaN). */
    Tensor host(DType dtype, long... shape) {
        return keep(RandomTensors.floats(dtype, random, shape));
    }

    /** Token ids uniform over {@code [0, vocab)} in host memory (I32). */
    Tensor ids(long count, long vocab) {
        return keep(RandomTensors.ids(count, vocab, random));
    }

    /** A copy of {@code host} on the device. */
    Tensor onDevice(Tensor host) {
        return keep(host.copyTo(device));
    }

    /** Closes {@code t} with the others. */
    Tensor keep(Tensor t) {
        owned.push(t);
        return t;
    }

    SplittableRandom random() {
        return random;
    }

    @Override
    public void close() {
        RuntimeException first = null;
        while (!owned.isEmpty()) {
            try {
                owned.pop().close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
