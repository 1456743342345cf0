package io.tpkernels.bench.cases;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * Random benchmark inputs in host memory, shared by {@code tpk bench} and the JMH benchmarks: floats of
 * either sign in {@code [0.5, 2)} (never zero, subnormal or NaN, so no input takes a slow or special path),
 * and token ids uniform over a vocabulary. One random int per float keeps a 263 MB weight under a second.
 */
public final class RandomTensors {
    private RandomTensors() {
    }

    /** A host tensor of {@code dtype} (F32, F16 or BF16) filled with random floats. */
    public static Tensor floats(DType dtype, SplittableRandom random, long... shape) {
        Tensor t = Tensor.allocate(Device.CPU, dtype, shape);
        MemorySegment s = t.hostSegment();
        for (long i = 0; i < t.numel(); i++) {
            dtype.setFloat(s, i, value(random.nextInt()));
        }
        return t;
    }

    /** A host I32 tensor of {@code count} token ids uniform over {@code [0, vocabSize)}. */
    public static Tensor ids(long count, long vocabSize, SplittableRandom random) {
        return Tensor.ofLongs(DType.I32, random.longs(count, 0, vocabSize).toArray(), count);
    }

    /** The float whose sign is bit 31, whose exponent is 2^-1 or 2^0 by bit 30, and whose mantissa is bits 0-22. */
    static float value(int bits) {
        int exponent = 126 + ((bits >>> 30) & 1);
        return Float.intBitsToFloat((bits & 0x8000_0000) | exponent << 23 | (bits & 0x007F_FFFF));
    }
}
