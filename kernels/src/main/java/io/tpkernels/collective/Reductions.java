package io.tpkernels.collective;

import io.tpkernels.cuda.sources.KernelConstants;
import io.tpkernels.cuda.sources.KernelNames;
import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.KernelArgs;
import io.tpkernels.runtime.Memory;
import io.tpkernels.runtime.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Locale;
import java.util.stream.LongStream;

/**
 * Element-wise reductions of the ranks' tensors in rank order 0..n−1: floats summed in f32 and rounded to the
 * dtype once, integers in 64 bits, so results are bitwise reproducible run to run and equal on CPU and GPU.
 *
 * <p>Float MAX is IEEE 754-2019 {@code maximum}, which is also {@link Math#max}: {@code +0} is above {@code -0}
 * (so {@code -0} and {@code +0} give {@code +0} in either order) and a NaN anywhere gives NaN. A NaN result, of
 * SUM or MAX, is stored as the dtype's canonical quiet NaN ({@link #CANONICAL_NAN_F32}: sign clear, quiet bit
 * set, no payload, e.g. {@code 0x7FC0} in BF16), never a payload of an input: CPU arithmetic and GPU arithmetic
 * and conversions each propagate payloads their own way, and the promise is bitwise equality.
 * {@code collective.cu} implements the same rule on the GPU.
 */
final class Reductions {
    /** The most inputs the GPU kernel takes in one launch. */
    static final int MAX_DEVICE_INPUTS = KernelConstants.COLLECTIVE_MAX_INPUTS;
    private static final long BLOCK = 1 << 15;
    /** The quiet NaN every NaN result is stored as: written as F32, F16 ({@code 0x7E00}) or BF16 ({@code 0x7FC0}). */
    static final float CANONICAL_NAN_F32 = Float.intBitsToFloat(0x7FC0_0000);

    private Reductions() {
    }

    /** {@code out[i] = op over r of inputs.get(r)[i]}; {@code out} may be any tensor of the same shape and dtype. */
    static void reduce(List<Tensor> inputs, Tensor out, ReduceOp op, ExecutionContext ctx) {
        if (out.device().isCuda()) {
            device(inputs, out, op, ctx);
        } else {
            host(inputs, out, op);
        }
    }

    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    private static void host(List<Tensor> inputs, Tensor out, ReduceOp op) {
        try (Memory.Access held = Tensor.acquireAll(inputs.toArray(Tensor[]::new)); Memory.Access use = out.acquire()) {
            DType d = out.dtype();
            long n = out.numel();
            MemorySegment[] in = inputs.stream().map(Tensor::hostSegment).toArray(MemorySegment[]::new);
            MemorySegment o = out.hostSegment();
            long blocks = (n + BLOCK - 1) / BLOCK;
            LongStream range = LongStream.range(0, blocks);
            (blocks > 1 ? range.parallel() : range).forEach(b -> {
                long end = Math.min(n, (b + 1) * BLOCK);
                for (long i = b * BLOCK; i < end; i++) {
                    if (d.isFloatingPoint()) {
                        float acc = d.getFloat(in[0], i);
                        for (int r = 1; r < in.length; r++) {
                            float x = d.getFloat(in[r], i);
                            acc = op == ReduceOp.SUM ? acc + x : Math.max(acc, x); // Math.max: NaN wins, +0 above -0
                        }
                        d.setFloat(o, i, Float.isNaN(acc) ? CANONICAL_NAN_F32 : acc);
                    } else {
                        long acc = d.getLong(in[0], i);
                        for (int r = 1; r < in.length; r++) {
                            long x = d.getLong(in[r], i);
                            acc = op == ReduceOp.SUM ? acc + x : Math.max(acc, x);
                        }
                        d.setLong(o, i, d == DType.I32 ? (int) acc : acc);
                    }
                }
            });
        }
    }

    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    private static void device(List<Tensor> inputs, Tensor out, ReduceOp op, ExecutionContext ctx) {
        try (Memory.Access held = Tensor.acquireAll(inputs.toArray(Tensor[]::new)); Memory.Access use = out.acquire()) {
            if (inputs.size() > MAX_DEVICE_INPUTS) {
                throw new IllegalArgumentException("an in-process group reduces at most " + MAX_DEVICE_INPUTS
                        + " ranks on one GPU, got " + inputs.size());
            }
            long n = out.numel();
            if (n == 0) {
                return;
            }
            CudaDevice device = out.cudaDevice();
            String name = "tpk_reduce_" + op.name().toLowerCase(Locale.ROOT) + "_" + out.dtype().name().toLowerCase(Locale.ROOT);
            KernelArgs args = KernelArgs.begin().ptr(out.devicePointer()).i64(n).i32(inputs.size());
            for (int r = 0; r < MAX_DEVICE_INPUTS; r++) {
                args.ptr(r < inputs.size() ? inputs.get(r).devicePointer() : 0);
            }
            int threads = KernelConstants.COLLECTIVE_THREADS;
            int blocks = (int) Math.max(1, Math.min((n + threads - 1) / threads, (long) device.multiprocessors() * 8));
            ctx.kernel(KernelNames.MODULE_COLLECTIVE, name).launch(ctx, blocks, threads, 0, args);
        }
    }
}
