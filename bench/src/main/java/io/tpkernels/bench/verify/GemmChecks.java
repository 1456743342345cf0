package io.tpkernels.bench.verify;

import io.tpkernels.ops.CublasGemm;
import io.tpkernels.ops.Linear;
import io.tpkernels.ops.LmHead;
import io.tpkernels.ops.LoraLinear;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.runtime.Tuning;
import java.util.ArrayList;
import java.util.List;

/**
 * Every GEMM body and LoRA route on the device against the CPU GEMM: each case picks the shape, dtype and tuning
 * that lead to its body, and checks (through the layer's plan) that this body is what runs; where the device
 * takes another (no sm_90 for the Hopper kernels), the case is skipped and says which. Then the padded LM head and,
 * where it is installed, cuBLAS.
 */
final class GemmChecks {
    private GemmChecks() {
    }

    /** A GEMM body: which kernel name it expects, and the shape and tuning that lead to it. */
    private record Body(String path, String kernelPrefix, DType dtype, int t, int k, int n, boolean bias,
                        Tuning.HopperGemm hopper) {
    }

    /** A LoRA route: the kernel its first launch expects, and the shape and tuning that lead to it. */
    private record Route(String path, String kernelPrefix, DType dtype, int t, int k, int n, int r, boolean dora,
                         Tuning.LoraShrink shrink) {
    }

    static List<Check> checks(ExecutionContext gpu, boolean quick) {
        List<Check> checks = new ArrayList<>();
        int k = quick ? 128 : 1024;
        int n = quick ? 384 : 1536;
        for (Body body : List.of(
                new Body("gemm decode, tensor cores", "tpk_gemm_mma_decode_bf16", DType.BF16, 4, k, n, true, null),
                new Body("gemm decode, f32", "tpk_gemm_decode_f32", DType.F32, 3, k, n, false, null),
                new Body("gemm mma.sync", "tpk_gemm_mma_bf16", DType.BF16, 64, k, n, true,
                        Tuning.HopperGemm.OFF),
                new Body("gemm simt", "tpk_gemm_simt_f32", DType.F32, 40, k, n, true, null),
                new Body("gemm wgmma v1", "tpk_gemm_wgmma_bf16", DType.BF16, 200, k, n, true,
                        Tuning.HopperGemm.V1),
                new Body("gemm wgmma ping-pong", "tpk_gemm_wgmma_pp_f16", DType.F16, 200, k, n, false,
                        Tuning.HopperGemm.PINGPONG),
                new Body("gemm narrow (lora shrink)", "tpk_gemm_mma_decode_t_bf16", DType.BF16, 64, k, 16, false,
                        null))) {
            checks.add(new Check(body.path(), () -> check(gpu, body)));
        }
        for (Route route : List.of(
                new Route("lora decode, one launch", "tpk_lora_decode_bf16", DType.BF16, 1, k, n, 16, true, null),
                new Route("lora shrink on chip", "tpk_gemm_wgmma_lora16_bf16", DType.BF16, 64, k, n, 16, true,
                        Tuning.LoraShrink.AUTO),
                new Route("lora shrink then fused", "tpk_gemm_mma_decode_t_f16", DType.F16, 64, k, n, 16, false,
                        Tuning.LoraShrink.SEPARATE),
                new Route("lora staged rank", "staged", DType.BF16, 8, k, n, 3, false, null))) {
            checks.add(new Check(route.path(), () -> check(gpu, route)));
        }
        checks.add(new Check("lm head, padded", () -> lmHead(gpu, quick)));
        checks.add(new Check("cublas", () -> cublas(gpu, quick)));
        return checks;
    }

    private static VerifyRow check(ExecutionContext gpu, Body c) {
        String shape = "T=" + c.t() + " K=" + c.k() + " N=" + c.n() + (c.bias() ? " +bias" : "");
        ExecutionContext ctx = c.hopper() == null ? gpu : gpu.withTuning(gpu.tuning().withHopperGemm(c.hopper()));
        try (Operands ops = new Operands(gpu.device(), c.path().hashCode())) {
            Tensor x = ops.host(c.dtype(), c.t(), c.k());
            Tensor w = ops.host(c.dtype(), c.n(), c.k());
            Tensor bias = c.bias() ? ops.host(c.dtype(), c.n()) : null;
            Linear.Plan plan = Linear.plan(ctx, ops.onDevice(w), bias == null ? null : ops.onDevice(bias));
            String kernel = plan.kernelFor(c.t());
            if (!kernel.startsWith(c.kernelPrefix())) {
                return VerifyRow.skipped(c.path(), shape, c.dtype().toString(), "this device runs " + kernel);
            }
            float[] want = result(ops.keep(Linear.forward(ExecutionContext.cpu(), x, w, bias)));
            float[] got = result(ops.keep(plan.forward(ops.onDevice(x))));
            return VerifyRow.measured(c.path(), kernel, shape, c.dtype().toString(), Deviation.relative(want, got),
                    Deviation.tolerance(c.dtype()));
        }
    }

    private static VerifyRow check(ExecutionContext gpu, Route c) {
        String shape = "T=" + c.t() + " K=" + c.k() + " N=" + c.n() + " R=" + c.r() + (c.dora() ? " DoRA" : "");
        ExecutionContext ctx = c.shrink() == null ? gpu : gpu.withTuning(gpu.tuning().withLoraShrink(c.shrink()));
        try (Operands ops = new Operands(gpu.device(), c.path().hashCode())) {
            Tensor x = ops.host(c.dtype(), c.t(), c.k());
            Tensor w = ops.host(c.dtype(), c.n(), c.k());
            Tensor a = ops.host(c.dtype(), c.r(), c.k());
            Tensor b = ops.host(c.dtype(), c.n(), c.r());
            Tensor g = c.dora() ? ops.host(DType.F32, c.n()) : null;
            Tensor bias = ops.host(c.dtype(), c.n());
            float scale = 0.5f;
            LoraLinear.Plan plan = LoraLinear.plan(ctx, ops.onDevice(w), ops.onDevice(a), ops.onDevice(b), scale,
                    g == null ? null : ops.onDevice(g), ops.onDevice(bias));
            List<String> kernels = plan.kernelsFor(c.t());
            if (!kernels.get(0).startsWith(c.kernelPrefix())) {
                return VerifyRow.skipped(c.path(), shape, c.dtype().toString(), "this device runs " + kernels);
            }
            float[] want = result(ops.keep(LoraLinear.forwardColumnScaled(ExecutionContext.cpu(), x, w, a, b, scale,
                    g, bias)));
            float[] got = result(ops.keep(plan.forward(ops.onDevice(x))));
            return VerifyRow.measured(c.path(), String.join(" + ", kernels), shape, c.dtype().toString(),
                    Deviation.relative(want, got), Deviation.tolerance(c.dtype()));
        }
    }

    /** The LM head of a shard with padding rows: the valid columns as the CPU computes them, −∞ past them. */
    private static VerifyRow lmHead(ExecutionContext gpu, boolean quick) {
        int t = 5;
        int h = quick ? 128 : 1024;
        int valid = quick ? 300 : 3000;
        int shard = valid + 20;
        String shape = "T=" + t + " H=" + h + " valid=" + valid + " S=" + shard;
        try (Operands ops = new Operands(gpu.device(), 17)) {
            Tensor x = ops.host(DType.BF16, t, h);
            Tensor w = ops.host(DType.BF16, valid, h);
            float[] want = result(ops.keep(LmHead.logits(ExecutionContext.cpu(), x, w, shard)));
            float[] got = result(ops.keep(LmHead.logits(gpu, ops.onDevice(x), ops.onDevice(w), shard)));
            return VerifyRow.measured("lm head, padded", "tpk_gemm_* + tpk_pad_columns", shape, "BF16 -> F32",
                    Deviation.relative(want, got), Deviation.tolerance(DType.F32) * 10);
        }
    }

    /** cuBLAS where it is installed, for the baselines and the LM head's cuBLAS backend. */
    private static VerifyRow cublas(ExecutionContext gpu, boolean quick) {
        int t = 32;
        int k = quick ? 128 : 1024;
        int n = quick ? 256 : 1024;
        String shape = "T=" + t + " K=" + k + " N=" + n;
        if (!CublasGemm.isAvailable() || !CublasGemm.supports(DType.BF16, DType.F32)) {
            return VerifyRow.skipped("cublas", shape, "BF16 -> F32", "cuBLAS was not found");
        }
        try (Operands ops = new Operands(gpu.device(), 23)) {
            Tensor x = ops.host(DType.BF16, t, k);
            Tensor w = ops.host(DType.BF16, n, k);
            Tensor want = ops.keep(Tensor.allocate(ExecutionContext.cpu(), DType.F32, t, n));
            Linear.forward(ExecutionContext.cpu(), x, w, null, want);
            Tensor out = ops.keep(Tensor.allocate(gpu, DType.F32, t, n));
            CublasGemm.multiplyNT(gpu, ops.onDevice(x), ops.onDevice(w), out);
            return VerifyRow.measured("cublas", "cublasGemmEx", shape, "BF16 -> F32",
                    Deviation.relative(want.toFloatArray(), out.toFloatArray()), Deviation.tolerance(DType.F32) * 10);
        }
    }

    private static float[] result(Tensor t) {
        return t.toFloatArray();
    }
}
