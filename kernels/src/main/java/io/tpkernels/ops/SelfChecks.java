package io.tpkernels.ops;

import io.tpkernels.runtime.CudaKernel;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The self-checks of the hand-written GEMM and LoRA kernels ({@link io.tpkernels.runtime.KernelHealth}): each kernel
 * runs once on a small shape of the kind it is chosen for, on random data, and its result is compared with the
 * product computed here in double. The tolerance catches a wrong kernel (a bad index, a wrong fragment layout,
 * a race), not rounding: 1e-4 of the result's largest magnitude in F32, 4e-3 in F16, 2e-2 in BF16.
 */
final class SelfChecks {
    private SelfChecks() {
    }

    /** A check's operands: {@code x [t, k]}, {@code w [n, k]}, a LoRA term of rank {@code r} (0: none), a bias. */
    private record Shape(int t, int k, int n, int r, boolean bias) {
    }

    private static Shape shapeOf(GemmCuda.Path path) {
        return switch (path) {
            case MMA_DECODE, DECODE -> new Shape(3, 64, 72, 8, true);
            case MMA -> new Shape(40, 64, 80, 8, true);
            case WGMMA, WGMMA_PP -> new Shape(130, 128, 264, 8, true); // more than one 128-wide tile of output
            case MMA_DECODE_T -> new Shape(40, 64, 16, 0, false);      // narrow, no epilogue: LoRA's shrink
            case SIMT -> new Shape(5, 20, 7, 3, true);
            case CUBLAS -> throw new IllegalArgumentException("cuBLAS is not checked: it is what a failed body gives way to");
        };
    }

    /** {@code null} when {@code choice} computes {@code alpha·(x·wᵀ + xa·bᵀ) + bias} as the reference does, else why not. */
    static String gemm(ExecutionContext ctx, GemmCuda.Choice choice, DType in, DType out) {
        Shape s = shapeOf(choice.path());
        float alpha = 0.75f;
        try (Operands ops = new Operands(ctx, choice.path().ordinal() * 131L + in.ordinal() * 7L + out.ordinal())) {
            Tensor x = ops.random(in, s.t(), s.k());
            Tensor w = ops.random(in, s.n(), s.k());
            Tensor xa = s.r() > 0 ? ops.random(in, s.t(), s.r()) : null;
            Tensor b = s.r() > 0 ? ops.random(in, s.n(), s.r()) : null;
            Tensor bias = s.bias() ? ops.random(in, s.n()) : null;
            Tensor y = ops.output(out, s.t(), s.n());
            GemmCuda.launch(choice, x, w, xa, b, bias, null, s.n(), alpha, y, ctx);
            double[] want = product(ops, s, alpha, x, w, xa, b, bias);
            return judge(want, ops.read(y), out);
        }
    }

    /** The one-launch LoRA decode kernel at {@code T = 2}, {@code R = 16}. */
    static String loraDecode(ExecutionContext ctx, CudaKernel kernel, DType in, DType out) {
        return lora(ctx, kernel, in, out, new Shape(2, 64, 72, 16, true), true);
    }

    /**
     * The fused Hopper LoRA kernel with its shrink on chip at {@code T = 40} and rank {@code r}, the rank it was
     * chosen for (each such kernel serves the ranks up to its own bound, which its launch derives from {@code r}).
     */
    static String loraOnChip(ExecutionContext ctx, CudaKernel kernel, DType in, DType out, int r) {
        return lora(ctx, kernel, in, out, new Shape(40, 128, 264, r, true), false);
    }

    /** {@code y = x·wᵀ + (s·x·aᵀ)·bᵀ + bias} through {@code kernel} against the double product. */
    private static String lora(ExecutionContext ctx, CudaKernel kernel, DType in, DType out, Shape s, boolean decode) {
        float scale = 0.5f;
        try (Operands ops = new Operands(ctx, kernel.name().hashCode())) {
            Tensor x = ops.random(in, s.t(), s.k());
            Tensor w = ops.random(in, s.n(), s.k());
            Tensor a = ops.random(in, s.r(), s.k());
            Tensor b = ops.random(in, s.n(), s.r());
            Tensor bias = ops.random(in, s.n());
            Tensor y = ops.output(out, s.t(), s.n());
            if (decode) {
                LoraDecodeCuda.launch(kernel, x, w, a, b, scale, null, bias, y, ctx);
            } else {
                GemmCuda.launchLoraOnChip(kernel, x, w, a, b, scale, null, bias, y, ctx);
            }
            float[] xv = ops.values(x);
            float[] av = ops.values(a);
            double[] xa = new double[s.t() * s.r()];
            for (int t = 0; t < s.t(); t++) {
                for (int r = 0; r < s.r(); r++) {
                    double sum = 0;
                    for (int k = 0; k < s.k(); k++) {
                        sum += (double) xv[t * s.k() + k] * av[r * s.k() + k];
                    }
                    xa[t * s.r() + r] = scale * sum;
                }
            }
            double[] want = product(ops, new Shape(s.t(), s.k(), s.n(), 0, true), 1f, x, w, null, null, bias);
            float[] bv = ops.values(b);
            for (int t = 0; t < s.t(); t++) {
                for (int j = 0; j < s.n(); j++) {
                    double sum = 0;
                    for (int r = 0; r < s.r(); r++) {
                        sum += xa[t * s.r() + r] * bv[j * s.r() + r];
                    }
                    want[t * s.n() + j] += sum;
                }
            }
            // s·x·Aᵀ is rounded to the input dtype on the way (the contract's rounding): the looser tolerance holds.
            return judge(want, ops.read(y), in == DType.F32 ? out : in);
        }
    }

    /** {@code alpha·(x·wᵀ + xa·bᵀ) + bias} in double, from the operands' values as they are on the device. */
    private static double[] product(Operands ops, Shape s, float alpha, Tensor x, Tensor w, Tensor xa, Tensor b,
                                    Tensor bias) {
        float[] xv = ops.values(x);
        float[] wv = ops.values(w);
        float[] xav = xa == null ? null : ops.values(xa);
        float[] bv = b == null ? null : ops.values(b);
        float[] biasv = bias == null ? null : ops.values(bias);
        double[] want = new double[s.t() * s.n()];
        for (int t = 0; t < s.t(); t++) {
            for (int j = 0; j < s.n(); j++) {
                double sum = 0;
                for (int k = 0; k < s.k(); k++) {
                    sum += (double) xv[t * s.k() + k] * wv[j * s.k() + k];
                }
                for (int r = 0; xav != null && r < s.r(); r++) {
                    sum += (double) xav[t * s.r() + r] * bv[j * s.r() + r];
                }
                want[t * s.n() + j] = alpha * sum + (biasv == null ? 0 : biasv[j]);
            }
        }
        return want;
    }

    /** {@code null} when {@code got} is within the tolerance of {@code dtype} of {@code want}, else what is wrong. */
    static String judge(double[] want, float[] got, DType dtype) {
        double scale = 1e-30;
        for (double v : want) {
            scale = Math.max(scale, Math.abs(v));
        }
        double worst = 0;
        int at = -1;
        for (int i = 0; i < want.length; i++) {
            double e = Math.abs(got[i] - want[i]) / scale;
            if (!(e <= worst)) { // NaN lands here too, and stays the worst
                worst = e;
                at = i;
                if (Double.isNaN(e)) {
                    break;
                }
            }
        }
        double tolerance = switch (dtype) {
            case F32 -> 1e-4;
            case F16 -> 4e-3;
            default -> 2e-2;
        };
        return worst <= tolerance ? null : String.format(java.util.Locale.ROOT,
                "element %d is %s where the reference is %.6g: %.3g of the result's scale, over %.0e", at, got[at],
                want[at], worst, tolerance);
    }

    /** The device tensors of one check, on the checking context's stream, and their host copies. */
    private static final class Operands implements AutoCloseable {
        private final ExecutionContext ctx;
        private final SplittableRandom random;
        private final List<Tensor> owned = new ArrayList<>();
        private final java.util.Map<Tensor, float[]> values = new java.util.IdentityHashMap<>();

        Operands(ExecutionContext ctx, long seed) {
            this.ctx = ctx;
            this.random = new SplittableRandom(seed);
        }

        /** A device tensor of random values in [-1, 1), uploaded on the checking stream. */
        Tensor random(DType dtype, long... shape) {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            float[] v = new float[Math.toIntExact(n)];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (random.nextDouble() * 2 - 1);
            }
            Tensor host = keep(Tensor.ofFloats(dtype, v, shape));
            Tensor device = keep(Tensor.allocate(ctx, dtype, shape));
            device.copyFromAsync(host, ctx.stream());
            values.put(device, host.toFloatArray()); // the values as rounded to dtype
            return device;
        }

        Tensor output(DType dtype, long... shape) {
            return keep(Tensor.allocate(ctx, dtype, shape));
        }

        float[] values(Tensor device) {
            return values.get(device);
        }

        /** {@code device}'s values, after the stream has run everything queued so far. */
        float[] read(Tensor device) {
            Tensor host = keep(Tensor.allocate(Device.CPU, device.dtype(), device.shape()));
            host.copyFromAsync(device, ctx.stream());
            ctx.stream().synchronize();
            return host.toFloatArray();
        }

        private Tensor keep(Tensor t) {
            owned.add(t);
            return t;
        }

        @Override
        public void close() {
            ctx.stream().synchronize(); // the host copies are read; device memory is freed in stream order
            for (int i = owned.size() - 1; i >= 0; i--) {
                owned.get(i).close();
            }
        }
    }
}
