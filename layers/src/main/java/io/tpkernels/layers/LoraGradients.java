package io.tpkernels.layers;

import io.tpkernels.ops.Elementwise;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;

/**
 * The gradients of one rank's LoRA factors, F32 whatever the precision (parameters and their optimizer state are
 * F32), shaped as the rank's {@code A} and {@code B} shards; each backward adds its {@code dA} and {@code dB} in, so
 * that micro-batches sum, until {@link #zero()}. The base weight has no such buffer: it is frozen.
 *
 * <p>The buffers are allocated, as zeros, on first use (a backward, or a read of them): a layer used only for
 * inference holds its weights and adapter and nothing else.
 */
final class LoraGradients implements AutoCloseable {
    private final LoraShard shard;
    private final ExecutionContext exec;
    private Tensor a;
    private Tensor b;

    /** The gradients of {@code shard}'s factors, on {@code exec}'s device once used. */
    LoraGradients(LoraShard shard, ExecutionContext exec) {
        this.shard = shard;
        this.exec = exec;
    }

    /** The gradient of {@code A}, summed since the last {@link #zero()}. */
    Tensor a() {
        allocate();
        return a;
    }

    /** The gradient of {@code B}, summed since the last {@link #zero()}. */
    Tensor b() {
        allocate();
        return b;
    }

    /** {@code gradA += dA}, {@code gradB += dB}, in f32: the same arithmetic on every rank that holds a copy. */
    void accumulate(Tensor dA, Tensor dB) {
        Elementwise.addInPlace(exec, a(), dA);
        Elementwise.addInPlace(exec, b(), dB);
    }

    /** Both gradients back to +0, in the stream's order: after the queued work that may read them, no host wait. */
    void zero() {
        if (a == null) {
            return; // never used: zero already, when it is
        }
        a.fillBytes(exec, (byte) 0);
        b.fillBytes(exec, (byte) 0);
    }

    private void allocate() {
        if (a != null) {
            return;
        }
        if (!shard.a().isOpen()) {
            throw new IllegalStateException("LoRA gradients of a closed layer (A " + shard.a().describe() + ")");
        }
        Tensor ga = Tensor.zeros(exec, DType.F32, shard.a().shape());
        try {
            b = Tensor.zeros(exec, DType.F32, shard.b().shape());
        } catch (RuntimeException e) {
            ga.close();
            throw e;
        }
        a = ga;
    }

    @Override
    public void close() {
        if (a != null) {
            try (Tensor gb = b) {
                a.close();
            }
        }
    }
}
