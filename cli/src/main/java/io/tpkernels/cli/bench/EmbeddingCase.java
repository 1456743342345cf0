package io.tpkernels.cli.bench;

import io.tpkernels.ops.EmbeddingLookup;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The masked vocab-parallel lookup (SEMANTICS.md section 3) on rank 0's shard, BF16, ids uniform over the whole
 * vocabulary, so about one id in eight is gathered and the rest zero-filled. The baseline is the lookup without
 * masking: the same ids in one shard that covers the whole vocabulary, every id gathered. Bytes count the
 * gathered rows, the written output and the ids. The input sets differ in their ids and outputs: each set
 * gathers other rows of the one weight.
 */
final class EmbeddingCase implements KernelCase {

    private record Size(long tokens, long hidden) {
    }

    private record Inputs(Tensor weight, Tensor ids, Tensor out) {
    }

    @Override
    public String name() {
        return "embedding";
    }

    private static List<Size> sizes(Bench bench) {
        if (bench.quick()) {
            return List.of(new Size(4, 64));
        }
        if (!bench.isCuda()) {
            return List.of(new Size(128, 2048), new Size(4096, 2048));
        }
        List<Size> sizes = new ArrayList<>();
        for (long hidden : new long[] {4096, 8192}) {
            for (long tokens : new long[] {1, 128, 8192, 32768}) {
                sizes.add(new Size(tokens, hidden));
            }
        }
        return sizes;
    }

    @Override
    public List<Result> measure(Bench bench) {
        VocabShard shard = Vocab.firstShard(bench);
        List<Result> rows = new ArrayList<>();
        for (Size size : sizes(bench)) {
            try (Tensors mem = bench.tensors(size.tokens() * 31 + size.hidden())) {
                rows.add(measure(bench, mem, shard, size.tokens(), size.hidden()));
            }
        }
        return rows;
    }

    private Result measure(Bench bench, Tensors mem, VocabShard shard, long t, long h) {
        long vocab = shard.vocabSize();
        long valid = shard.validRows();
        long rowBytes = h * DType.BF16.byteSize();
        // Per run: the gathered rows (valid / vocab of the ids on average), the output, the ids.
        int count = bench.setsFor(t * rowBytes * (1 + (double) valid / vocab) + t * DType.I32.byteSize());
        long[] ids = mem.random().longs(count * t, 0, vocab).toArray();
        Tensor allIds = mem.ids(ids);
        Tensor allOut = mem.empty(DType.BF16, count * t, h);
        Tensor shardWeight = mem.floats(DType.BF16, valid, h);
        Rotation<Inputs> masked = Rotation.of(count, i -> new Inputs(shardWeight, allIds.rows(i * t, (i + 1) * t),
                allOut.rows(i * t, (i + 1) * t)));
        double maskedMs = bench.medianMillis(lookup(bench, masked, shard.start(), valid, vocab));

        Tensor wholeWeight = mem.empty(DType.BF16, vocab, h);
        for (long row = 0; row < vocab; row += valid) {
            long n = Math.min(valid, vocab - row);
            wholeWeight.rows(row, row + n).copyFrom(shardWeight.rows(0, n));
        }
        Rotation<Inputs> whole = Rotation.of(count, i -> new Inputs(wholeWeight, masked.get(i).ids(), masked.get(i).out()));
        double unmaskedMs = bench.medianMillis(lookup(bench, whole, 0, vocab, vocab));

        double gatheredPerRun = (double) Arrays.stream(ids).filter(shard::contains).count() / count;
        double bytes = gatheredPerRun * rowBytes + t * rowBytes + t * DType.I32.byteSize();
        return new Result(name(), Result.Role.kernel, bench.backend(), "BF16", Shape.of("T", t).and("H", h), maskedMs,
                bytes, (double) t * h, List.of(new Result.Baseline("unmasked", unmaskedMs)));
    }

    private static Work lookup(Bench bench, Rotation<Inputs> sets, long start, long valid, long vocab) {
        if (!bench.isCuda()) {
            return i -> {
                Inputs in = sets.get(i);
                EmbeddingLookup.masked(in.ids(), in.weight(), start, valid, vocab, in.out());
            };
        }
        return new Work() {
            private EmbeddingLookup.Pending pending;

            @Override
            public void run(int i) {
                Inputs in = sets.get(i);
                pending = EmbeddingLookup.maskedAsync(in.ids(), in.weight(), start, valid, vocab, in.out(),
                        bench.stream());
            }

            @Override
            public void settle(int i) {
                pending.await(); // returns the bad-id flag to its pool, so the next run allocates none
            }
        };
    }
}
