package io.tpkernels.layers;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import java.util.SplittableRandom;

/**
 * PEFT's initialisation of LoRA's {@code A[R, K]}: {@code kaiming_uniform_(A, a=√5)}, i.e. uniform on
 * {@code [−b, b)} with {@code b = gain·√(3 / fan_in)}, {@code gain = √(2 / (1 + a²)) = √(1/3)}, so
 * {@code b = 1/√K}. The draws come from a {@link SplittableRandom} seeded with the caller's seed, in row-major
 * order: one seed gives one {@code A}, whatever the tensor-parallel layout that later slices it.
 * (PyTorch's generator differs, so the values are not PyTorch's; the distribution is.)
 */
public final class LoraInit {
    private LoraInit() {
    }

    /**
     * The bound {@code 1/√K} of the uniform draws for {@code fanIn = K}.
     *
     * @param fanIn {@code K}, the input dimension of the full (unsharded) layer
     * @return the bound {@code b}
     */
    public static double bound(long fanIn) {
        return 1.0 / Math.sqrt(fanIn);
    }

    /**
     * A fresh host F32 tensor {@code [rank, fanIn]} of the draws for {@code seed}.
     *
     * @param seed the seed; the same seed gives the same tensor
     * @param rank {@code R}, the rows
     * @param fanIn {@code K}, the columns: the full layer's input dimension, also for a row-parallel layer that keeps
     *     only its slice
     * @return a new host tensor, owned by the caller
     */
    public static Tensor kaimingUniform(long seed, int rank, long fanIn) {
        Tensor a = Tensor.allocate(io.tpkernels.runtime.Device.CPU, DType.F32, rank, fanIn);
        SplittableRandom random = new SplittableRandom(seed);
        double b = bound(fanIn);
        var s = a.hostSegment();
        for (long i = 0; i < a.numel(); i++) {
            DType.F32.setFloat(s, i, (float) random.nextDouble(-b, b));
        }
        return a;
    }
}
