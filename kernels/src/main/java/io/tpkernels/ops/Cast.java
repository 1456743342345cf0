package io.tpkernels.ops;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
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

    /**
     * A new tensor holding {@code src} converted to {@code dtype}, allocated on {@code ctx} and queued there.
     *
     * @param ctx the context the result is allocated on and the conversion queued on; {@code src} lives on its device
     * @param src an F32, F16 or BF16 tensor
     * @param dtype F32, F16 or BF16
     * @return a new tensor of {@code src}'s shape, owned by the caller
     * @throws IllegalArgumentException when a dtype is an integer one or {@code src} is not on {@code ctx}'s device
     */
    public static Tensor to(ExecutionContext ctx, Tensor src, DType dtype) {
        Tensor dst = Tensor.allocate(ctx, dtype, src.shape());
        try {
            into(ctx, src, dst);
        } catch (RuntimeException e) {
            dst.close();
            throw e;
        }
        return dst;
    }

    /**
     * Queues the conversion of {@code src} into {@code dst} on {@code ctx} (both on its device).
     *
     * @param ctx the context the conversion is queued on (on the host it runs at the call)
     * @param src an F32, F16 or BF16 tensor
     * @param dst a float tensor of {@code src}'s shape on its device; it may have the same dtype (a copy)
     * @throws IllegalArgumentException when a dtype is an integer one, or the shapes or devices differ, or the tensors
     *     are not on {@code ctx}'s device
     */
    public static void into(ExecutionContext ctx, Tensor src, Tensor dst) {
        check(src, dst);
        ctx.requireOn("cast", src);
        if (ctx.isCuda()) {
            CastCuda.run(src, dst, ctx);
            ctx.wrote(dst);
        } else {
            CastCpu.run(src, dst);
        }
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
