package io.tpkernels.bench.cases;

import io.tpkernels.ops.VocabArgmax;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;
import java.util.List;
import java.util.function.Consumer;

/**
 * The vocab-parallel argmax (docs/contract.md section 5) over the last rank's F32 logits {@code [T, S]}, valid
 * columns only: bandwidth-bound, one comparison per valid logit; no baseline but the copy. On the CPU the
 * timing includes allocating the two small result tensors, as {@link VocabArgmax#local(io.tpkernels.runtime.ExecutionContext, Tensor, long, long)}
 * does for its callers; on a GPU the results go to buffers reused across runs.
 */
final class ArgmaxCase implements KernelCase {

    @Override
    public String name() {
        return "argmax";
    }

    private static long[] tokens(Bench bench) {
        if (bench.quick()) {
            return new long[] {2};
        }
        return bench.isCuda() ? new long[] {1, 16, 4096} : new long[] {1, 128};
    }

    @Override
    public void measure(Bench bench, Consumer<Result> out) {
        VocabShard shard = Vocab.lastShard(bench);
        for (long t : tokens(bench)) {
            try (Tensors mem = bench.tensors(t)) {
                out.accept(measure(bench, mem, shard, t));
            }
        }
    }

    private Result measure(Bench bench, Tensors mem, VocabShard shard, long t) {
        long s = shard.shardSize();
        long valid = shard.validRows();
        double bytes = (double) t * valid * DType.F32.byteSize() + t * (DType.F32.byteSize() + DType.I64.byteSize());
        int count = bench.setsFor(bytes);
        Tensor logits = mem.floats(DType.F32, count * t, s);
        Rotation<Tensor> sets = Rotation.of(count, i -> logits.rows(i * t, (i + 1) * t));
        double ms;
        if (bench.isCuda()) {
            VocabArgmax.Local out = new VocabArgmax.Local(mem.empty(DType.F32, t), mem.empty(DType.I64, t));
            ms = bench.medianMillis(i -> VocabArgmax.local(bench.exec(), sets.get(i), valid, shard.start(), out));
        } else {
            ms = bench.medianMillis(i -> VocabArgmax.local(bench.exec(), sets.get(i), valid, shard.start()).close());
        }
        return new Result(name(), Result.Role.kernel, bench.backend(), "F32",
                Shape.of("T", t).and("S", s).and("valid", valid), ms, bytes, (double) t * valid, List.of());
    }
}
