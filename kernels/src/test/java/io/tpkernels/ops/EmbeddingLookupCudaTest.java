package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.testing.EmbeddingReference;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.Poison;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CUDA lookups (masked and plain) against the CPU lookup, bit for bit, on poisoned outputs, with the word
 * size each shape is copied in checked too.
 */
@GpuTest
class EmbeddingLookupCudaTest {
    private static ExecutionContext gpu() {
        return ExecutionContext.defaultFor(Device.cuda(0));
    }

    /** Reads {@code t} to the host (where a queued lookup reports a bad id), then closes it. */
    private static void read(Tensor t) {
        try (t) {
            t.toFloatArray();
        }
    }


    private static final Device GPU = Device.cuda(0);

    /**
     * A weight {@code [rows, h]} of random values that starts {@code byteOffset} bytes into its buffer, on the
     * host and as the same bytes on the GPU: an offset that is not a multiple of 16 forces narrower words.
     */
    private record Weight(Tensor hostBuffer, Tensor gpuBuffer, Tensor host, Tensor gpu) implements AutoCloseable {
        static Weight of(DType dtype, long seed, int rows, int h, int byteOffset) {
            Tensor hostBuffer = EmbeddingReference.randomWeight(dtype, seed, rows + 1, h);
            Tensor gpuBuffer = hostBuffer.copyTo(GPU);
            return new Weight(hostBuffer, gpuBuffer, hostBuffer.viewBytes(byteOffset, dtype, rows, h),
                    gpuBuffer.viewBytes(byteOffset, dtype, rows, h));
        }

        @Override
        public void close() {
            hostBuffer.close();
            gpuBuffer.close();
        }
    }

    private static void assertRowsEqual(Tensor expected, Tensor actual, long[] ids) {
        float[][] e = EmbeddingReference.rows(expected);
        float[][] a = EmbeddingReference.rows(actual);
        for (int t = 0; t < ids.length; t++) {
            assertArrayEquals(e[t], a[t], 0f, "token " + t + " id " + ids[t]);
        }
    }

    private static void assertSameAsCpu(VocabShard shard, DType dtype, DType idType, int tokens, int h, long seed,
                                        int weightByteOffset, int word) {
        long[] ids = EmbeddingLookupCpuTest.ids(new SplittableRandom(seed), tokens, shard);
        int valid = (int) shard.validRows();
        try (Weight w = Weight.of(dtype, seed, valid, h, weightByteOffset);
             Tensor idHost = Tensor.ofLongs(idType, ids, tokens);
             Tensor expected = EmbeddingLookup.vocabParallel(ExecutionContext.defaultFor(idHost.device()), idHost, w.host(), shard);
             Tensor idGpu = idHost.copyTo(GPU);
             Tensor out = Poison.poison(Tensor.allocate(GPU, dtype, tokens, h))) {
            assertEquals(word, EmbeddingLookupCuda.wordBytes(w.gpu(), out), "word bytes");
            EmbeddingLookup.masked(ExecutionContext.defaultFor(idGpu.device()), idGpu, w.gpu(), shard.start(), valid, shard.vocabSize(), out);
            assertRowsEqual(expected, out, ids);
        }
    }

    @ParameterizedTest(name = "{0} ids {1}, T={2}, H={3}, tp={4} rank={5}, weight at byte {6}: {7}-byte words")
    @CsvSource({
        "BF16, I32, 1, 8192, 8, 0, 0, 16",       // decode: one token
        "BF16, I64, 4099, 4096, 8, 7, 0, 16",    // the last rank, which holds padding
        "F32, I32, 513, 4, 2, 1, 0, 16",         // 16-byte rows of F32
        "BF16, I32, 300, 4100, 8, 3, 0, 8",      // 8200-byte rows, 8 mod 16
        "F32, I64, 300, 6, 2, 0, 0, 8",          // 24-byte rows
        "F16, I64, 777, 6, 4, 2, 0, 4",          // 12-byte rows
        "BF16, I32, 300, 7, 3, 0, 0, 2",         // odd H
        "BF16, I32, 300, 64, 3, 1, 8, 8",        // 128-byte rows, but the weight 8 bytes off: the pointer decides
        "BF16, I64, 300, 64, 3, 2, 4, 4",        // ... 4 bytes off
        "F16, I32, 300, 64, 3, 0, 2, 2",         // ... 2 bytes off
        "F32, I64, 1000, 33, 1, 0, 0, 4",        // tp 1: everything contained
    })
    void matchesTheCpu(DType dtype, DType idType, int tokens, int h, int tp, int rank, int offset, int word) {
        assertSameAsCpu(VocabShard.of(50_000, tp, rank, 64), dtype, idType, tokens, h, tokens * 31L + h, offset, word);
    }

    @Test
    void aShardWithoutRealRowsWritesZeros() {
        assertSameAsCpu(VocabShard.of(10, 4, 3, 4), DType.BF16, DType.I32, 64, 16, 5, 0, 16);
    }

    @ParameterizedTest(name = "plain: {0} ids {1}, T={2}, V={3}, H={4}, weight at byte {5}: {6}-byte words")
    @CsvSource({
        "BF16, I32, 700, 3000, 1024, 0, 16",
        "BF16, I64, 300, 500, 4100, 0, 8",
        "F32, I32, 200, 100, 64, 8, 8",
        "F16, I64, 333, 77, 6, 0, 4",
        "BF16, I32, 129, 40, 7, 0, 2",
    })
    void thePlainLookupMatchesTheCpu(DType dtype, DType idType, int tokens, int vocab, int h, int offset, int word) {
        long seed = tokens * 17L + h;
        // Every id once in a while at the table's two ends.
        long[] ids = EmbeddingLookupCpuTest.ids(new SplittableRandom(seed), tokens, VocabShard.of(vocab, 1, 0, 1));
        try (Weight w = Weight.of(dtype, seed, vocab, h, offset);
             Tensor idHost = Tensor.ofLongs(idType, ids, tokens);
             Tensor expected = Poison.poison(Tensor.allocate(Device.CPU, dtype, tokens, h));
             Tensor idGpu = idHost.copyTo(GPU);
             Tensor out = Poison.poison(Tensor.allocate(GPU, dtype, tokens, h))) {
            EmbeddingLookup.plain(ExecutionContext.defaultFor(idHost.device()), idHost, w.host(), expected);
            assertEquals(word, EmbeddingLookupCuda.wordBytes(w.gpu(), out), "word bytes");
            EmbeddingLookup.plain(ExecutionContext.defaultFor(idGpu.device()), idGpu, w.gpu(), out);
            assertRowsEqual(expected, out, ids);
            try (Tensor allocated = EmbeddingLookup.hiddenParallel(ExecutionContext.defaultFor(idGpu.device()), idGpu, w.gpu())) {
                assertRowsEqual(expected, allocated, ids);
            }
        }
    }

    @Test
    void badIdsAreFlaggedOnTheDeviceWithTheFirstPosition() {
        try (Tensor ids = Tensor.ofLongs(DType.I32, new long[] {1, 2, 3, 70_000, 5, -4}, 6).copyTo(GPU);
             Tensor w = EmbeddingReference.randomWeight(DType.BF16, 2, 100, 64).copyTo(GPU)) {
            // Queued: the report comes where the result is read.
            var e = assertThrows(IllegalArgumentException.class, () -> read(EmbeddingLookup.masked(gpu(), ids, w, 0,
                    100, 50_000)));
            assertEquals("embedding lookup: token id 70000 at position 3 is outside [0, 50000)", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> read(EmbeddingLookup.hiddenParallel(gpu(), ids, w)));
            assertEquals("embedding lookup: token id 70000 at position 3 is outside [0, 100)", e.getMessage());
            // The flag is reset for the next launch: good ids pass afterwards.
            try (Tensor good = Tensor.ofLongs(DType.I32, new long[] {1, 2}, 2).copyTo(GPU);
                 Tensor out = EmbeddingLookup.masked(ExecutionContext.defaultFor(good.device()), good, w, 0, 100, 50_000);
                 Tensor plain = EmbeddingLookup.hiddenParallel(ExecutionContext.defaultFor(good.device()), good, w)) {
                assertEquals(2, out.dim(0));
                assertEquals(2, plain.dim(0));
            }
        }
    }

    @Test
    void badIdsAreFlaggedEvenWhenRowsAreEmpty() {
        // H = 0: no row to copy, but the kernel still runs to check every id, as the CPU does.
        try (Tensor ids = Tensor.ofLongs(DType.I64, new long[] {1, 99, -1}, 3).copyTo(GPU);
             Tensor w = Tensor.allocate(GPU, DType.BF16, 50, 0);
             Tensor out = Tensor.allocate(GPU, DType.BF16, 3, 0)) {
            var e = assertThrows(IllegalArgumentException.class, () -> {
                EmbeddingLookup.masked(gpu(), ids, w, 0, 50, 100, out);
                gpu().synchronize();
            });
            assertEquals("embedding lookup: token id -1 at position 2 is outside [0, 100)", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> {
                EmbeddingLookup.plain(gpu(), ids, w, out);
                gpu().synchronize();
            });
            assertEquals("embedding lookup: token id 99 at position 1 is outside [0, 50)", e.getMessage());
            try (Tensor good = Tensor.ofLongs(DType.I32, new long[] {0, 49}, 2).copyTo(GPU)) {
                EmbeddingLookup.masked(gpu(), good, w, 0, 50, 100, out.rows(0, 2));
                EmbeddingLookup.plain(gpu(), good, w, out.rows(0, 2));
                gpu().synchronize(); // good ids: nothing to report
            }
        }
    }

    /**
     * On a stream of its own the lookups queue and return; the bad id is reported where the result is read: when the
     * context synchronizes, or when a tensor it wrote (the lookup's output, or anything computed from it on the same
     * context) is copied to the host. The error names the first bad position either way.
     */
    @Test
    void queuedLookupsReportABadIdWhereTheResultIsRead() {
        try (ExecutionContext ctx = ExecutionContext.create(GPU);
             Tensor ids = Tensor.ofLongs(DType.I64, new long[] {3, 1 << 20}, 2).copyTo(GPU);
             Tensor w = EmbeddingReference.randomWeight(DType.F32, 2, 10, 8).copyTo(GPU);
             Tensor out = Tensor.allocate(GPU, DType.F32, 2, 8)) {
            EmbeddingLookup.masked(ctx, ids, w, 0, 10, 1000, out); // queued: no error yet
            var e = assertThrows(IllegalArgumentException.class, ctx::synchronize);
            assertEquals("embedding lookup: token id 1048576 at position 1 is outside [0, 1000)", e.getMessage());
            ctx.synchronize(); // the check was read once: nothing is pending any more

            EmbeddingLookup.plain(ctx, ids, w, out);
            e = assertThrows(IllegalArgumentException.class, out::toFloatArray);
            assertEquals("embedding lookup: token id 1048576 at position 1 is outside [0, 10)", e.getMessage());

            EmbeddingLookup.plain(ctx, ids, w, out);
            try (Tensor derived = Elementwise.siluMul(ctx, out, out)) {
                e = assertThrows(IllegalArgumentException.class, derived::toFloatArray);
                assertEquals("embedding lookup: token id 1048576 at position 1 is outside [0, 10)", e.getMessage());
            }
        }
    }
}
