package io.tpkernels.jcuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.cuda.sources.KernelNames;
import io.tpkernels.ops.EmbeddingLookup;
import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.CudaStream;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.KernelArgs;
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
 * The embedding kernel launched through JCuda against the same kernel through the FFM binding, bit for bit, on
 * random weights and ids, with both outputs poisoned first; and both against the CPU reference, so that two
 * launches that wrote nothing cannot pass as equal.
 */
@GpuTest
class JcudaEmbeddingGpuTest {

    private static final Device GPU = Device.cuda(0);

    /** Ids over the whole vocabulary: about 1 in tp falls in the shard, the rest are masked to zero rows. */
    private static long[] ids(long seed, int tokens, long vocab) {
        return new SplittableRandom(seed).longs(tokens, 0, vocab).toArray();
    }

    private static void assertSameBytes(Tensor expected, Tensor actual, String what) {
        try (Tensor e = expected.copyTo(Device.CPU); Tensor a = actual.copyTo(Device.CPU)) {
            long at = e.hostSegment().mismatch(a.hostSegment());
            assertEquals(-1L, at, what + ": first differing byte");
        }
    }

    @ParameterizedTest(name = "{0} ids {1}, T={2}, H={3}, tp={4} rank={5}, weight offset {6}")
    @CsvSource({
        "BF16, I32, 1, 8192, 8, 0, 0",        // decode, 16-byte words
        "BF16, I64, 4099, 4096, 8, 7, 0",     // the last rank, which holds padding
        "F32, I32, 513, 4, 2, 1, 0",          // 16-byte rows of F32
        "F16, I64, 777, 6, 4, 2, 0",          // 12-byte rows: 4-byte words
        "BF16, I32, 300, 7, 3, 0, 0",         // odd H: 2-byte words
        "BF16, I32, 300, 64, 3, 1, 1",        // misaligned weight view: narrower words
    })
    void jcudaLaunchEqualsTheFfmLaunch(DType dtype, DType idType, int tokens, int h, int tp, int rank, int offset) {
        VocabShard shard = VocabShard.of(50_000, tp, rank, 64);
        int valid = (int) shard.validRows();
        long seed = tokens * 31L + h;
        try (Tensor idHost = Tensor.ofLongs(idType, ids(seed, tokens, shard.vocabSize()), tokens);
             Tensor wHost = EmbeddingReference.randomWeight(dtype, seed, valid + offset, h);
             Tensor cpu = EmbeddingLookup.vocabParallel(ExecutionContext.defaultFor(idHost.device()), idHost, wHost.rows(offset, valid + offset), shard);
             Tensor idGpu = idHost.copyTo(GPU);
             Tensor wAll = wHost.copyTo(GPU);
             Tensor ffm = Poison.poison(Tensor.allocate(GPU, dtype, tokens, h));
             Tensor jcuda = Poison.poison(Tensor.allocate(GPU, dtype, tokens, h))) {
            Tensor w = wAll.rows(offset, valid + offset);
            EmbeddingLookup.masked(ExecutionContext.defaultFor(idGpu.device()), idGpu, w, shard.start(), valid, shard.vocabSize(), ffm);
            JcudaKernels.embeddingLookup(idGpu, w, shard.start(), valid, shard.vocabSize(), jcuda);
            assertSameBytes(ffm, jcuda, "JCuda launch against FFM launch");
            assertSameBytes(cpu, jcuda, "JCuda launch against the CPU reference");
        }
    }

    @Test
    void jcudaMemoryWrappedAsTensorsRunsTheLookup() {
        int tokens = 64;
        int h = 32;
        CudaDevice device = CudaDevice.of(0);
        try (Tensor idHost = Tensor.ofLongs(DType.I64, ids(7, tokens, 1000), tokens);
             Tensor wHost = EmbeddingReference.randomWeight(DType.F32, 7, 1000, h);
             Tensor expected = EmbeddingLookup.hiddenParallel(ExecutionContext.defaultFor(idHost.device()), idHost, wHost);
             JcudaMemory idMem = JcudaMemory.allocate(idHost.byteSize());
             JcudaMemory wMem = JcudaMemory.allocate(wHost.byteSize());
             JcudaMemory outMem = JcudaMemory.allocate((long) tokens * h * 4)) {
            Tensor ids = JcudaPointers.wrap(idMem.pointer(), idMem.bytes(), device, DType.I64, tokens);
            Tensor w = JcudaPointers.wrap(wMem.pointer(), wMem.bytes(), device, DType.F32, 1000, h);
            Tensor out = JcudaPointers.wrap(outMem.pointer(), outMem.bytes(), device, DType.F32, tokens, h);
            ids.copyFrom(idHost);
            w.copyFrom(wHost);
            Poison.poison(out);
            JcudaKernels.embeddingLookup(ids, w, 0, 1000, 1000, out);
            assertSameBytes(expected, out, "lookup in JCuda's memory against the CPU reference");
        }
    }

    @Test
    void aBadIdIsReportedAsByTheFfmLaunch() {
        try (Tensor ids = Tensor.ofLongs(DType.I32, new long[] {1, 2, 3, 70_000, 5, -4}, 6).copyTo(GPU);
             Tensor w = EmbeddingReference.randomWeight(DType.BF16, 2, 100, 64).copyTo(GPU);
             Tensor out = Tensor.allocate(GPU, DType.BF16, 6, 64)) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> JcudaKernels.embeddingLookup(ids, w, 0, 100, 50_000, out));
            assertEquals("embedding lookup: token id 70000 at position 3 is outside [0, 50000)", e.getMessage());
        }
    }

    @Test
    void onlyTheLegacyDefaultStreamIsShared() {
        CudaDevice device = CudaDevice.of(0);
        try (CudaStream stream = CudaStream.create(device)) {
            var e = assertThrows(IllegalArgumentException.class, () -> JcudaKernels.launcher().launch(stream,
                    KernelNames.MODULE_EMBEDDING, KernelNames.TPK_EMBEDDING_W4_I32, 1, 32, 0,
                    KernelArgs.begin().i64(0)));
            assertTrue(e.getMessage().contains("legacy default stream"), e.getMessage());
        }
    }
}
