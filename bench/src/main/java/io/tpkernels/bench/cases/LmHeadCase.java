package io.tpkernels.bench.cases;

import io.tpkernels.ops.CublasGemm;
import io.tpkernels.ops.LmHead;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.runtime.Tuning;
import io.tpkernels.shard.VocabShard;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The vocab-padded LM-head GEMM (docs/contract.md section 5) on the last rank's shard, the one with padding rows:
 * {@code X[T, H]·W[valid, H]ᵀ} into F32 logits {@code [T, S]}, BF16 inputs. Decode shapes are bound by reading
 * W (their percent is of the copy bandwidth), prefill by the GEMM rate; on a GPU the baselines are cuBLAS on the
 * valid columns and, for prefill, the mma.sync kernel (what runs where the Hopper kernel does not) and on sm_90 each
 * Hopper kernel by name ({@code wgmma v1}, {@code pingpong}), whichever is the default. GEMM-shaped: {@code M = T},
 * {@code N = valid}, {@code K = H}.
 */
final class LmHeadCase implements KernelCase {

    private record Inputs(Tensor weight, Tensor x, Tensor logits) {
    }

    @Override
    public String name() {
        return "lm-head";
    }

    private static long hidden(Bench bench) {
        return bench.quick() ? 64 : bench.isCuda() ? 8192 : 2048;
    }

    private static long[] tokens(Bench bench) {
        if (bench.quick()) {
            return new long[] {2};
        }
        return bench.isCuda() ? new long[] {1, 8, 16, 4096} : new long[] {1, 16, 128};
    }

    @Override
    public void measure(Bench bench, Consumer<Result> out) {
        VocabShard shard = Vocab.lastShard(bench);
        long h = hidden(bench);
        try (Tensors weights = bench.tensors(7)) {
            Tensor weight = weights.floats(DType.BF16, shard.validRows(), h);
            for (long t : tokens(bench)) {
                try (Tensors mem = bench.tensors(t)) {
                    out.accept(measure(bench, mem, weight, shard.shardSize(), t));
                }
            }
        }
    }

    private Result measure(Bench bench, Tensors mem, Tensor weight, long s, long t) {
        long valid = weight.dim(0);
        long h = weight.dim(1);
        long bytes = weight.byteSize() + t * h * DType.BF16.byteSize() + t * s * DType.F32.byteSize();
        Rotation<Inputs> sets = Rotation.of(bench.setsFor(bytes), i -> new Inputs(i == 0 ? weight : mem.copyOf(weight),
                mem.floats(DType.BF16, t, h), mem.empty(DType.F32, t, s)));
        double ms = tuned(bench, sets, bench.exec().tuning());
        List<Result.Baseline> baselines = new ArrayList<>();
        if (bench.isCuda() && CublasGemm.isAvailable()) {
            baselines.add(new Result.Baseline("cublas", bench.medianMillis(i -> {
                Inputs in = sets.get(i);
                CublasGemm.multiplyNT(bench.exec(), in.x(), in.weight(), in.logits());
            })));
        }
        if (bench.isCuda() && t > 16) { // the portable tensor-core kernel on the same shape (on sm_90 the default is wgmma)
            baselines.add(new Result.Baseline("mma.sync", tuned(bench, sets, hopper(bench, Tuning.HopperGemm.OFF))));
        }
        if (bench.isCuda() && t > 16 && bench.exec().tuning().hopperGemm() != Tuning.HopperGemm.OFF
                && bench.exec().cudaDevice().computeCapability() == 90) {
            baselines.add(new Result.Baseline("wgmma v1", tuned(bench, sets, hopper(bench, Tuning.HopperGemm.V1))));
            baselines.add(new Result.Baseline("pingpong", tuned(bench, sets,
                    hopper(bench, Tuning.HopperGemm.PINGPONG))));
        }
        return new Result(name(), Result.Role.kernel, bench.backend(), "BF16->F32",
                Shape.of("M", t).and("N", valid).and("K", h).and("S", s), ms, bytes, 2.0 * t * valid * h, baselines);
    }

    private static Tuning hopper(Bench bench, Tuning.HopperGemm variant) {
        return bench.exec().tuning().withHopperGemm(variant);
    }

    /** The median of the LM head on the bench's stream with {@code tuning}. */
    private static double tuned(Bench bench, Rotation<Inputs> sets, Tuning tuning) {
        ExecutionContext exec = bench.exec().withTuning(tuning);
        return bench.medianMillis(i -> {
            Inputs in = sets.get(i);
            LmHead.logits(exec, in.x(), in.weight(), in.logits());
        });
    }
}
