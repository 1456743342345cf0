package io.tpkernels.ops;

import io.tpkernels.runtime.CudaStream;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import java.util.Arrays;

/**
 * Element-wise conversion between F32, F16 and BF16: {@code dst[i] = round(src[i])}, rounding to nearest,
 * ties to even, NaN kept NaN, infinities kept (see {@link DType}). One entry point; the CPU implementation
 * ({@link CastCpu}, the reference) or the CUDA kernel ({@code cast.cu}) runs by the tensors' device.
 */
public final class Cast {
    private Cast() {
    }

    /** A new tensor on {@code src}'s device holding {@code src} converted to {@code dtype}. */
    public static Tensor to(Tensor src, DType dtype) {
        Tensor dst = Tensor.allocate(src.device(), dtype, src.shape());
        try {
            into(src, dst);
        } catch (RuntimeException e) {
            dst.close();
            throw e;
        }
        return dst;
    }

    /** Converts {@code src} into {@code dst}; on a GPU, on the device's default stream, and returns when done. */
    public static void into(Tensor src, Tensor dst) {
        check(src, dst);
        if (src.device().isCuda()) {
            CudaStream stream = CudaStream.legacyDefault(src.cudaDevice());
            CastCuda.run(src, dst, stream);
            stream.synchronize();
        } else {
            CastCpu.run(src, dst);
        }
    }

    /** Queues the conversion on {@code stream} (both tensors on its device). */
    public static void into(Tensor src, Tensor dst, CudaStream stream) {
        check(src, dst);
        if (!src.device().isCuda() || src.cudaDevice() != stream.device()) {
            throw new IllegalArgumentException("cast: tensors on " + src.device() + " with a stream on "
                    + stream.device());
        }
        CastCuda.run(src, dst, stream);
    }

    private static void check(Tensor src, Tensor dst) {
        if (!src.dtype().isFloatingPoint() || !dst.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("cast converts between F32, F16 and BF16, not " + src.dtype() + " to "
                    + dst.dtype());
        }
        if (!Arrays.equals(src.shape(), dst.shape())) {
            throw new IllegalArgumentException("cast: source " + src.describe() + " and destination " + dst.describe()
                    + " differ in shape");
        }
        if (!src.device().equals(dst.device())) {
            throw new IllegalArgumentException("cast: source " + src.describe() + " and destination " + dst.describe()
                    + " are on different devices");
        }
    }
}
