package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tpkernels.gpu.CudaDevice;
import io.tpkernels.gpu.CudaStream;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Device;
import io.tpkernels.tensor.Tensor;
import io.tpkernels.testing.EmbeddingReference;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.Poison;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The CUDA lookup against the CPU lookup, bit for bit, on poisoned outputs. */
@GpuTest
class EmbeddingLookupCudaTest {

    private static final Device GPU = Device.cuda(0);

    private static void assertSameAsCpu(VocabShard shard, DType dtype, DType idType, int tokens, int h, long seed,
                                        int weightRowOffset) {
        long[] ids = EmbeddingLookupCpuTest.ids(new SplittableRandom(seed), tokens, shard);
        int valid = (int) shard.validRows();
        try (Tensor idHost = Tensor.ofLongs(idType, ids, tokens);
             Tensor wHost = EmbeddingReference.randomWeight(dtype, seed, valid + weightRowOffset, h);
             Tensor expected = EmbeddingLookup.vocabParallel(idHost, wHost.rows(weightRowOffset, valid + weightRowOffset), shard);
             Tensor idGpu = idHost.copyTo(GPU);
             Tensor wGpu = wHost.copyTo(GPU);
             Tensor out = Poison.poison(Tensor.allocate(GPU, dtype, tokens, h))) {
            // A weight view starting at row `weightRowOffset` is misaligned for odd offsets: the scalar path.
            EmbeddingLookup.masked(idGpu, wGpu.rows(weightRowOffset, valid + weightRowOffset), shard.start(), valid,
                    shard.vocabSize(), out);
            float[][] e = EmbeddingReference.rows(expected);
            float[][] a = EmbeddingReference.rows(out);
            for (int t = 0; t < tokens; t++) {
                assertArrayEquals(e[t], a[t], 0f, "token " + t + " id " + ids[t]);
            }
        }
    }

    @ParameterizedTest(name = "{0} ids {1}, T={2}, H={3}, tp={4} rank={5}, weight offset {6}")
    @CsvSource({
        "BF16, I32, 1, 8192, 8, 0, 0",        // decode: one token, 16-byte words
        "BF16, I64, 4099, 4096, 8, 7, 0",     // the last rank, which holds padding
        "F32, I32, 513, 4, 2, 1, 0",          // 16-byte rows of F32
        "F16, I64, 777, 6, 4, 2, 0",          // 12-byte rows: 4-byte words
        "BF16, I32, 300, 7, 3, 0, 0",         // odd H: 2-byte words
        "BF16, I32, 300, 64, 3, 1, 1",        // misaligned weight view: narrower words
        "F32, I64, 1000, 33, 1, 0, 0",        // tp 1: everything contained
    })
    void matchesTheCpu(DType dtype, DType idType, int tokens, int h, int tp, int rank, int offset) {
        assertSameAsCpu(VocabShard.of(50_000, tp, rank, 64), dtype, idType, tokens, h, tokens * 31L + h, offset);
    }

    @Test
    void aShardWithoutRealRowsWritesZeros() {
        assertSameAsCpu(VocabShard.of(10, 4, 3, 4), DType.BF16, DType.I32, 64, 16, 5, 0);
    }

    @Test
    void badIdsAreFlaggedOnTheDeviceWithTheFirstPosition() {
        try (Tensor ids = Tensor.ofLongs(DType.I32, new long[] {1, 2, 3, 70_000, 5, -4}, 6).copyTo(GPU);
             Tensor w = EmbeddingReference.randomWeight(DType.BF16, 2, 100, 64).copyTo(GPU)) {
            var e = assertThrows(IllegalArgumentException.class, () -> EmbeddingLookup.masked(ids, w, 0, 100, 50_000));
            assertEquals("embedding lookup: token id 70000 at position 3 is outside [0, 50000)", e.getMessage());
            // The flag is reset for the next launch: good ids pass afterwards.
            try (Tensor good = Tensor.ofLongs(DType.I32, new long[] {1, 2}, 2).copyTo(GPU);
                 Tensor out = EmbeddingLookup.masked(good, w, 0, 100, 50_000)) {
                assertEquals(2, out.dim(0));
            }
        }
    }

    @Test
    void theAsyncFormReportsOnAwait() {
        CudaDevice device = CudaDevice.of(0);
        try (CudaStream stream = CudaStream.create(device);
             Tensor ids = Tensor.ofLongs(DType.I64, new long[] {3, 1 << 20}, 2).copyTo(GPU);
             Tensor w = EmbeddingReference.randomWeight(DType.F32, 2, 10, 8).copyTo(GPU);
             Tensor out = Tensor.allocate(GPU, DType.F32, 2, 8)) {
            EmbeddingLookup.Pending pending = EmbeddingLookup.maskedAsync(ids, w, 0, 10, 1000, out, stream);
            var e = assertThrows(IllegalArgumentException.class, pending::await);
            assertEquals("embedding lookup: token id 1048576 at position 1 is outside [0, 1000)", e.getMessage());
        }
    }
}
