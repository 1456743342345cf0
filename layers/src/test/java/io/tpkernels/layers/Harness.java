package io.tpkernels.layers;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.layers.weights.InMemoryWeights;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.RandomData;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Random checkpoints, ranks as threads, and host copies: what every layer property test needs. */
public final class Harness {
    private Harness() {
    }

    /** A rank's work with its context. */
    @FunctionalInterface
    public interface RankWork<T> {
        T run(RankContext ctx) throws Exception;
    }

    /**
     * Runs {@code work} on {@code tp} rank threads sharing {@code device}, each with an execution context of its own
     * (closed after its work, which waits for what it queued and reads its deferred checks); results in rank order.
     */
    public static <T> List<T> onRanks(int tp, Device device, Precision precision, RankWork<T> work) {
        return LocalGroup.run(tp, Duration.ofSeconds(60), g -> {
            try (ExecutionContext exec = ExecutionContext.create(device)) {
                return work.run(new RankContext(g, exec, precision));
            }
        });
    }

    /** A weight source of random (never zero) tensors of these shapes, stored as {@code dtype}. */
    public static InMemoryWeights randomWeights(long seed, DType dtype, Map<String, long[]> shapes) {
        return randomWeights(seed, dtype, shapes, false);
    }

    /**
     * Like {@link #randomWeights(long, DType, Map)}; with {@code scaleByFanIn} each tensor is divided by the square
     * root of its last dimension, as real initialisations do, so activations keep their size through many layers.
     */
    public static InMemoryWeights randomWeights(long seed, DType dtype, Map<String, long[]> shapes, boolean scaleByFanIn) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        long s = seed;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long[] shape = e.getValue();
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            float[] v = RandomData.moderate(s++, Math.toIntExact(n));
            if (scaleByFanIn && shape.length > 0) {
                float f = (float) (1 / Math.sqrt(shape[shape.length - 1]));
                for (int i = 0; i < v.length; i++) {
                    v[i] *= f;
                }
            }
            tensors.put(e.getKey(), Tensor.ofFloats(dtype, v, shape));
        }
        return new InMemoryWeights("random checkpoint " + seed, tensors);
    }

    /** A host tensor of random activations {@code [t, k]} as {@code dtype} on {@code device}. */
    public static Tensor activations(long seed, DType dtype, Device device, int t, long k) {
        try (Tensor host = Tensor.ofFloats(dtype, RandomData.moderate(seed, Math.toIntExact(t * k)), t, k)) {
            return host.copyTo(device);
        }
    }

    /** {@code t}'s elements as floats, then closes it. */
    public static float[] drain(Tensor t) {
        try (t) {
            return t.toFloatArray();
        }
    }

    /** The floats of tensor {@code name} in {@code weights}. */
    public static float[] floats(InMemoryWeights weights, String name) {
        return weights.view(name).toFloatArray();
    }
}
