package io.tpkernels.ops;

import io.tpkernels.ops.cpu.CpuGemm.Operand;
import io.tpkernels.ops.cpu.CpuGemm.Product;
import io.tpkernels.ops.cpu.CpuGemm;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import java.util.List;

/**
 * The CPU reference of {@link LoraLinear}: the shrink {@code xa = s·x·Aᵀ} (rounded to the input dtype), then
 * one GEMM whose tiles accumulate {@code x·Wᵀ} and {@code xa·Bᵀ} together, apply the column scale (if any) and the
 * bias, and write {@code y} once.
 */
final class LoraLinearCpu {
    private LoraLinearCpu() {
    }

    static void run(Tensor x, Tensor w, Tensor a, Tensor b, float scale, Tensor columnScale, Tensor bias, Tensor out) {
        long t = x.dim(0);
        long k = x.dim(1);
        long r = a.dim(0);
        long n = w.dim(0);
        Operand xs = new Operand(x.hostSegment(), x.dtype(), t, k, k);
        try (Tensor xa = Tensor.allocate(Device.CPU, LoraLinear.intermediateDtype(x.dtype()), t, r)) {
            shrink(x, a, scale, xa);
            CpuGemm.multiplyNT(List.of(new Product(xs, new Operand(w.hostSegment(), w.dtype(), n, k, k)),
                            new Product(new Operand(xa.hostSegment(), xa.dtype(), t, r, r),
                                    new Operand(b.hostSegment(), b.dtype(), n, r, r))),
                    1f, columnScale == null ? null : columnScale.hostSegment(),
                    bias == null ? null : new CpuGemm.Bias(bias.hostSegment(), bias.dtype()),
                    out.hostSegment(), out.dtype(), n);
        }
    }

    /**
     * The shrink {@code xa = round(s·x·Aᵀ)} into {@code xa} ({@code [T, R]}, in {@link LoraLinear#intermediateDtype}):
     * the forward's intermediate, and the backward's when it recomputes it, the same bits in both.
     */
    static void shrink(Tensor x, Tensor a, float scale, Tensor xa) {
        long k = x.dim(1);
        long r = a.dim(0);
        CpuGemm.multiplyNT(List.of(new Product(new Operand(x.hostSegment(), x.dtype(), x.dim(0), k, k),
                        new Operand(a.hostSegment(), a.dtype(), r, k, k))), scale, null, xa.hostSegment(), xa.dtype(),
                r);
    }
}
