package io.tpkernels.bench.cases;

import io.tpkernels.ops.EmbeddingLookup;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * The masked vocab-parallel lookup (docs/contract.md section 4) on rank 0's shard, BF16, two rows per shape:
 * <ul>
 *   <li>{@code embedding}: ids uniform over the whole vocabulary, so about one id in eight is gathered and the
 *       rest zero-filled: the lookup as a model runs it, measured against the copy bandwidth alone.</li>
 *   <li>{@code embedding-in-shard}: ids all inside the shard, every row gathered, against the baseline
 *       {@code plain-lookup}: the plain lookup ({@link EmbeddingLookup#plain}, on a GPU the same kernel with the
 *       shard compare and zero-fill compiled out) on the same table and the same ids. The two move the same
 *       bytes, so their ratio is what masking costs. Rank 0's shard starts at id 0, so an id is the same row
 *       of the table for both. On the CPU both run the same loop.</li>
 * </ul>
 * Bytes count the gathered rows, the written output and the ids. The input sets differ in their ids and outputs:
 * each set gathers other rows of the one weight.
 */
final class EmbeddingCase implements KernelCase {
    static final String IN_SHARD = "embedding-in-shard";
    static final String PLAIN = "plain-lookup";

    private record Size(long tokens, long hidden) {
    }

    private record Inputs(Tensor ids, Tensor out) {
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
    public void measure(Bench bench, Consumer<Result> out) {
        VocabShard shard = Vocab.firstShard(bench);
        for (Size size : sizes(bench)) {
            try (Tensors mem = bench.tensors(size.tokens() * 31 + size.hidden())) {
                measure(bench, mem, shard, size.tokens(), size.hidden()).forEach(out);
            }
        }
    }

    private List<Result> measure(Bench bench, Tensors mem, VocabShard shard, long t, long h) {
        if (shard.start() != 0) {
            throw new IllegalStateException("the plain lookup reads ids as rows of the shard: it needs rank 0's, got "
                    + shard);
        }
        long vocab = shard.vocabSize();
        long valid = shard.validRows();
        long rowBytes = h * DType.BF16.byteSize();
        long idBytes = t * DType.I32.byteSize();
        // Per run: the gathered rows (valid / vocab of the ids on average, or all of them), the output, the ids.
        int uniformCount = bench.setsFor(t * rowBytes * (1 + (double) valid / vocab) + idBytes);
        int inShardCount = bench.setsFor(2.0 * t * rowBytes + idBytes);
        Tensor weight = mem.floats(DType.BF16, valid, h);
        // One output allocation serves both: outputs are only written.
        Tensor allOut = mem.empty(DType.BF16, Math.max(uniformCount, inShardCount) * t, h);

        long[] uniformIds = mem.random().longs(uniformCount * t, 0, vocab).toArray();
        Rotation<Inputs> uniform = sets(uniformCount, t, mem.ids(uniformIds), allOut);
        double uniformMs = bench.medianMillis(lookup(bench, uniform, weight, shard, true));
        double gatheredPerRun = (double) Arrays.stream(uniformIds).filter(shard::contains).count() / uniformCount;
        Shape shape = Shape.of("T", t).and("H", h);
        Result realistic = new Result(name(), Result.Role.kernel, bench.backend(), "BF16", shape, uniformMs,
                gatheredPerRun * rowBytes + t * rowBytes + idBytes, (double) t * h, List.of());

        long[] inShardIds = mem.random().longs(inShardCount * t, shard.start(), shard.start() + valid).toArray();
        Rotation<Inputs> inShard = sets(inShardCount, t, mem.ids(inShardIds), allOut);
        double maskedMs = bench.medianMillis(lookup(bench, inShard, weight, shard, true));
        double plainMs = bench.medianMillis(lookup(bench, inShard, weight, shard, false));
        Result maskingCost = new Result(IN_SHARD, Result.Role.kernel, bench.backend(), "BF16", shape, maskedMs,
                2.0 * t * rowBytes + idBytes, (double) t * h, List.of(new Result.Baseline(PLAIN, plainMs)));
        return List.of(realistic, maskingCost);
    }

    private static Rotation<Inputs> sets(int count, long t, Tensor allIds, Tensor allOut) {
        return Rotation.of(count, i -> new Inputs(allIds.rows(i * t, (i + 1) * t), allOut.rows(i * t, (i + 1) * t)));
    }

    /**
     * The masked lookup of {@code shard}, or ({@code masked} false) the plain lookup of the same table, whose
     * rows are ids {@code [0, valid)}: the same rows as the shard's when it starts at 0, as rank 0's does.
     */
    private static Work lookup(Bench bench, Rotation<Inputs> sets, Tensor weight, VocabShard shard, boolean masked) {
        return new Work() {
            @Override
            public void run(int i) {
                Inputs in = sets.get(i);
                if (masked) {
                    EmbeddingLookup.masked(bench.exec(), in.ids(), weight, shard.start(), shard.validRows(),
                            shard.vocabSize(), in.out());
                } else {
                    EmbeddingLookup.plain(bench.exec(), in.ids(), weight, in.out());
                }
            }

            @Override
            public void settle(int i) {
                bench.exec().synchronize(); // reads the bad-id flag, returning it to its pool for the next run
            }
        };
    }
}
