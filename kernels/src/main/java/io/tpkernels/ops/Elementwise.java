package io.tpkernels.ops;

import io.tpkernels.cuda.sources.KernelConstants;
import io.tpkernels.cuda.sources.KernelNames;
import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.KernelArgs;
import io.tpkernels.runtime.Memory;
import io.tpkernels.runtime.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Locale;

/**
 * The element-wise steps of the demo model (the contract, sections
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#7-parallel-linear-layers">7</a>,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#10-dora">10</a> and
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#13-the-demo-model">13</a>), one entry
 * point for both backends ({@code elementwise.cu} on a GPU). Each computes in f32 and rounds once to the tensors'
 * dtype.
 * <ul>
 *   <li>{@link #siluMul}: {@code silu(gate)·up}, {@code silu(g) = g / (1 + e^−g)}, the SwiGLU gate;</li>
 *   <li>{@link #addInPlace}: {@code a += b}, the residual update;</li>
 *   <li>{@link #addBiasInPlace}: {@code a[t, :] += bias}, the row-parallel bias after the collective;</li>
 *   <li>{@link #scaleColumnsInPlace}: {@code y[t, :] *= c}, DoRA's column scale (F32) of a row-parallel layer,
 *   after the collective and before the bias.</li>
 * </ul>
 */
public final class Elementwise {
    private static final int THREADS = KernelConstants.ELEMENTWISE_THREADS;
    private static final int BLOCKS_PER_SM = 8;

    /** The kernels of {@code elementwise.cu}; names by dtype built once, so a launch builds no strings. */
    private enum Kernel {
        SILU_MUL, ADD, ADD_BIAS, SCALE_COLUMNS;

        private final String[] names = new String[DType.values().length];

        Kernel() {
            for (DType d : DType.values()) {
                names[d.ordinal()] = "tpk_" + name().toLowerCase(Locale.ROOT) + "_" + d.name().toLowerCase(Locale.ROOT);
            }
        }
    }

    private Elementwise() {
    }

    /**
     * A new tensor {@code silu(gate)·up}; both of one shape, dtype and device.
     *
     * @param ctx the context the result is allocated on and the work queued on
     * @param gate the gate projection's output, F32, F16 or BF16
     * @param up the up projection's output, of {@code gate}'s shape and dtype
     * @return a new tensor of their shape and dtype, owned by the caller
     * @throws IllegalArgumentException when the tensors are not float, differ in shape, dtype or device, or are not on
     *     {@code ctx}'s device
     */
    public static Tensor siluMul(ExecutionContext ctx, Tensor gate, Tensor up) {
        requireAlike(ctx, "silu·up", gate, up);
        Tensor out = Tensor.allocate(ctx, gate.dtype(), gate.shape());
        try {
            if (ctx.isCuda()) {
                launch(ctx, Kernel.SILU_MUL, out, gate, up, 0);
            } else {
                DType d = gate.dtype();
                MemorySegment g = gate.hostSegment();
                MemorySegment u = up.hostSegment();
                MemorySegment o = out.hostSegment();
                for (long i = 0; i < out.numel(); i++) {
                    float x = d.getFloat(g, i);
                    d.setFloat(o, i, x / (1f + (float) Math.exp(-x)) * d.getFloat(u, i));
                }
            }
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /**
     * {@code a += b}; both of one shape, dtype and device.
     *
     * @param ctx the context the work is queued on
     * @param a the tensor to add to, F32, F16 or BF16
     * @param b the tensor to add, of {@code a}'s shape and dtype
     * @throws IllegalArgumentException when the tensors are not float, differ in shape, dtype or device, or are not on
     *     {@code ctx}'s device
     */
    public static void addInPlace(ExecutionContext ctx, Tensor a, Tensor b) {
        requireAlike(ctx, "add", a, b);
        if (ctx.isCuda()) {
            launch(ctx, Kernel.ADD, a, a, b, 0);
            return;
        }
        DType d = a.dtype();
        MemorySegment x = a.hostSegment();
        MemorySegment y = b.hostSegment();
        for (long i = 0; i < a.numel(); i++) {
            d.setFloat(x, i, d.getFloat(x, i) + d.getFloat(y, i));
        }
    }

    /**
     * {@code a[t, :] += bias} for every row {@code t} of the 2-D {@code a}; bias {@code [N]} like a.
     *
     * @param ctx the context the work is queued on
     * @param a {@code [T, N]} F32, F16 or BF16
     * @param bias {@code [N]}, of {@code a}'s dtype and device
     * @throws IllegalArgumentException when the shapes, dtypes or devices do not fit, or {@code a} is not on
     *     {@code ctx}'s device
     */
    public static void addBiasInPlace(ExecutionContext ctx, Tensor a, Tensor bias) {
        ctx.requireOn("add bias", a);
        if (a.rank() != 2 || bias.rank() != 1 || bias.dim(0) != a.dim(1) || bias.dtype() != a.dtype()
                || !bias.device().equals(a.device()) || !a.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("add bias: need a [T, N] float tensor and a bias [N] like it, got "
                    + a.describe() + " and " + bias.describe());
        }
        if (ctx.isCuda()) {
            launch(ctx, Kernel.ADD_BIAS, a, a, bias, a.dim(1));
            return;
        }
        DType d = a.dtype();
        MemorySegment x = a.hostSegment();
        MemorySegment b = bias.hostSegment();
        long cols = a.dim(1);
        for (long i = 0; i < a.numel(); i++) {
            d.setFloat(x, i, d.getFloat(x, i) + d.getFloat(b, i % cols));
        }
    }

    /**
     * {@code y[t, n] = round(y[t, n] · columnScale[n])} for every row {@code t} of the 2-D float {@code y}: the product
     * in f32, rounded once to y's dtype. A row-parallel DoRA layer applies its column scale so, after the all-reduce
     * and before the bias (the scale multiplies the sum of the ranks' partial products, not each one's bias).
     *
     * @param y           {@code [T, N]} F32, F16 or BF16
     * @param columnScale F32 {@code [N]} on y's device
     * @param ctx the context the work is queued on
     * @throws IllegalArgumentException when the shapes, dtypes or devices do not fit, or {@code y} is not on
     *     {@code ctx}'s device
     */
    public static void scaleColumnsInPlace(ExecutionContext ctx, Tensor y, Tensor columnScale) {
        ctx.requireOn("scale columns", y);
        if (y.rank() != 2 || !y.dtype().isFloatingPoint() || columnScale.rank() != 1
                || columnScale.dim(0) != y.dim(1) || columnScale.dtype() != DType.F32
                || !columnScale.device().equals(y.device())) {
            throw new IllegalArgumentException("scale columns: need a [T, N] float tensor and an F32 column scale [N] "
                    + "on its device, got " + y.describe() + " and " + columnScale.describe());
        }
        if (ctx.isCuda()) {
            launch(ctx, Kernel.SCALE_COLUMNS, y, y, columnScale, y.dim(1));
            return;
        }
        DType d = y.dtype();
        MemorySegment x = y.hostSegment();
        MemorySegment c = columnScale.hostSegment();
        long cols = y.dim(1);
        for (long i = 0; i < y.numel(); i++) {
            d.setFloat(x, i, d.getFloat(x, i) * DType.F32.getFloat(c, i % cols));
        }
    }

    private static void requireAlike(ExecutionContext ctx, String op, Tensor a, Tensor b) {
        if (!a.dtype().isFloatingPoint() || a.dtype() != b.dtype() || !Arrays.equals(a.shape(), b.shape())
                || !a.device().equals(b.device())) {
            throw new IllegalArgumentException(op + ": needs two float tensors of one shape, dtype and device, got "
                    + a.describe() + " and " + b.describe());
        }
        ctx.requireOn(op, a);
    }

    /**
     * Queues one launch of {@code kernel} for out's dtype over {@code out}'s elements; {@code cols} is read by the bias and
     * column-scale kernels only.
     */
    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    private static void launch(ExecutionContext ctx, Kernel kernel, Tensor out, Tensor a, Tensor b, long cols) {
        try (Memory.Access use = Tensor.acquireAll(out, a, b)) {
            long n = out.numel();
            if (n == 0) {
                return;
            }
            CudaDevice device = ctx.cudaDevice();
            int blocks = (int) Math.max(1, Math.min((n + THREADS - 1) / THREADS, (long) device.multiprocessors() * BLOCKS_PER_SM));
            KernelArgs args = KernelArgs.begin().ptr(out.devicePointer()).ptr(a.devicePointer()).ptr(b.devicePointer()).i64(n);
            if (kernel == Kernel.ADD_BIAS || kernel == Kernel.SCALE_COLUMNS) {
                args.i64(cols);
            }
            ctx.kernel(KernelNames.MODULE_ELEMENTWISE, kernel.names[out.dtype().ordinal()])
                    .launch(ctx, blocks, THREADS, 0, args);
            ctx.wrote(out);
        }
    }
}
