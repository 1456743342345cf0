package io.tpkernels.bench.cases;

import io.tpkernels.ops.CublasGemm;
import io.tpkernels.ops.LmHead;
import io.tpkernels.ops.LoraLinear;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.runtime.Tuning;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The fused LoRA linear (docs/contract.md section 8), {@code y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ}, BF16, against two baselines:
 * on a GPU the unfused sequence on cuBLAS (the base GEMM, the shrink GEMM scaled by {@code s}, and the expand
 * GEMM adding into {@code y} with {@code beta = 1}, which folds the add into it: the fastest cuBLAS alone
 * allows), and everywhere the base GEMM alone (the same kernels without the LoRA term), the floor fusion
 * aims for. At prefill on a GPU a third: the same forward with its shrink as a launch of its own into a scratch
 * buffer ({@link LoraShrink.Mode#SEPARATE}), against the default shrink on chip (on an sm_90 device; elsewhere
 * both rows run the same kernels). GEMM-shaped: {@code M = T}, {@code N}, {@code K}, and the rank {@code R}.
 */
final class LoraCase implements KernelCase {
    /** PEFT's {@code alpha / R} with the common {@code alpha = 2R}. */
    private static final float SCALE = 2f;

    private record Size(long n, long k, long r) {
    }

    private record Weights(Tensor w, Tensor a, Tensor b) {
        Weights copiedInto(Tensors mem) {
            return new Weights(mem.copyOf(w), mem.copyOf(a), mem.copyOf(b));
        }
    }

    private record Inputs(Weights weights, Tensor x, Tensor y) {
        Tensor w() {
            return weights.w();
        }

        Tensor a() {
            return weights.a();
        }

        Tensor b() {
            return weights.b();
        }
    }

    @Override
    public String name() {
        return "lora";
    }

    private static Size size(Bench bench) {
        return bench.quick() ? new Size(64, 64, 4) : bench.isCuda() ? new Size(8192, 8192, 16) : new Size(2048, 2048, 16);
    }

    private static long[] tokens(Bench bench) {
        if (bench.quick()) {
            return new long[] {2};
        }
        return bench.isCuda() ? new long[] {1, 16, 4096} : new long[] {1, 16, 128};
    }

    @Override
    public void measure(Bench bench, Consumer<Result> out) {
        Size size = size(bench);
        try (Tensors weights = bench.tensors(11)) {
            Weights w = new Weights(weights.floats(DType.BF16, size.n(), size.k()),
                    weights.floats(DType.BF16, size.r(), size.k()), weights.floats(DType.BF16, size.n(), size.r()));
            for (long t : tokens(bench)) {
                try (Tensors mem = bench.tensors(t)) {
                    out.accept(measure(bench, mem, w, t));
                }
            }
        }
    }

    /** The largest token count the decode path takes (one launch whatever the tuning says of the shrink). */
    private static final long DECODE_MAX_T = 16;

    private Result measure(Bench bench, Tensors mem, Weights weights, long t) {
        long n = weights.w().dim(0);
        long k = weights.w().dim(1);
        long r = weights.a().dim(0);
        long bytes = (n * k + r * k + n * r + t * k + t * n) * DType.BF16.byteSize();
        Rotation<Inputs> sets = Rotation.of(bench.setsFor(bytes), i -> new Inputs(
                i == 0 ? weights : weights.copiedInto(mem), mem.floats(DType.BF16, t, k), mem.empty(DType.BF16, t, n)));
        double fusedMs = fusedMillis(bench.exec(), bench, sets);
        List<Result.Baseline> baselines = new ArrayList<>();
        if (bench.isCuda() && CublasGemm.isAvailable()) {
            baselines.add(new Result.Baseline("unfused-cublas", unfusedMillis(bench, mem, sets, t, r)));
        }
        baselines.add(new Result.Baseline("base-gemm", bench.medianMillis(i -> {
            Inputs in = sets.get(i);
            LmHead.logits(bench.exec(), in.x(), in.w(), in.y());
        })));
        if (bench.isCuda() && t > DECODE_MAX_T) {
            baselines.add(new Result.Baseline("separate-shrink", fusedMillis(bench.exec().withTuning(
                    bench.exec().tuning().withLoraShrink(Tuning.LoraShrink.SEPARATE)), bench, sets)));
        }
        return new Result(name(), Result.Role.kernel, bench.backend(), "BF16",
                Shape.of("M", t).and("N", n).and("K", k).and("R", r), fusedMs, bytes,
                2.0 * t * (n * k + r * k + n * r), baselines);
    }

    private static double fusedMillis(ExecutionContext exec, Bench bench, Rotation<Inputs> sets) {
        return bench.medianMillis(i -> {
            Inputs in = sets.get(i);
            LoraLinear.forward(exec, in.x(), in.w(), in.a(), in.b(), SCALE, null, in.y());
        });
    }

    private static double unfusedMillis(Bench bench, Tensors mem, Rotation<Inputs> sets, long t, long r) {
        MemorySegment one = CublasGemm.scalar(1f);
        MemorySegment scale = CublasGemm.scalar(SCALE);
        MemorySegment zero = CublasGemm.scalar(0f);
        Tensor xa = mem.empty(DType.BF16, t, r);
        return bench.medianMillis(i -> {
            Inputs in = sets.get(i);
            CublasGemm.multiplyNT(bench.exec(), in.x(), in.w(), in.y());
            CublasGemm.multiplyNT(bench.exec(), in.x(), in.a(), xa, scale, zero);
            CublasGemm.multiplyNT(bench.exec(), xa, in.b(), in.y(), one, one);
        });
    }
}
