package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.CudaStream;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.runtime.Tuning;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.Poison;
import io.tpkernels.testing.RandomData;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The argmax kernel ({@code argmax.cu}, F32 and BF16 logits) against the CPU argmax, into outputs poisoned before
 * every run (NaN values, ids −1): ties, NaN, {@code ±0} met in each stage of the block's reduction (one thread's
 * scan, the warp shuffles, the step across warps), {@code valid = 0}, padding, and the ranks combined.
 */
@GpuTest
class VocabArgmaxCudaTest {

    private static final Device GPU = Device.cuda(0);
    private static final float NAN = Float.NaN;
    private static final float INF = Float.POSITIVE_INFINITY;

    /** The GPU argmax of host logits, queued into freshly poisoned buffers, copied back to the host. */
    private static VocabArgmax.Local onGpu(Tensor hostLogits, long valid, long start) {
        long t = hostLogits.dim(0);
        try (Tensor logits = hostLogits.copyTo(GPU);
             VocabArgmax.Local out = new VocabArgmax.Local(Poison.poison(Tensor.allocate(GPU, DType.F32, t)),
                     Poison.poison(Tensor.allocate(GPU, DType.I64, t)))) {
            ExecutionContext ctx = ExecutionContext.onStream(CudaStream.legacyDefault(CudaDevice.of(GPU)), Tuning.defaults());
            VocabArgmax.local(ctx, logits, valid, start, out);
            ctx.synchronize();
            return new VocabArgmax.Local(out.values().copyTo(Device.CPU), out.ids().copyTo(Device.CPU));
        }
    }

    private static long[] ids(VocabArgmax.Local r) {
        try (Tensor host = r.ids().copyTo(Device.CPU)) {
            long[] out = new long[(int) host.numel()];
            for (int i = 0; i < out.length; i++) {
                out[i] = DType.I64.getLong(host.hostSegment(), i);
            }
            return out;
        }
    }

    /** GPU and CPU agree bit for bit (values compared by their bits: {@code −0 ≠ +0}); returns the GPU's result. */
    private static VocabArgmax.Local assertSameAsCpu(Tensor hostLogits, long valid, long start) {
        VocabArgmax.Local gpu = onGpu(hostLogits, valid, start);
        try (VocabArgmax.Local cpu = VocabArgmax.local(ExecutionContext.cpu(), hostLogits, valid, start)) {
            assertArrayEquals(ids(cpu), ids(gpu), "ids");
            float[] c = cpu.values().toFloatArray();
            float[] g = gpu.values().toFloatArray();
            for (int i = 0; i < c.length; i++) {
                assertEquals(Float.floatToIntBits(c[i]), Float.floatToIntBits(g[i]), "value of token " + i + ": " + g[i]);
            }
        }
        return gpu;
    }

    /** {@code n} negative random logits: a planted {@code ±0} is then each row's maximum. */
    private static float[] negatives(long seed, int n) {
        float[] v = RandomData.floats(seed, n);
        for (int i = 0; i < n; i++) {
            v[i] = -Math.abs(v[i]);
        }
        return v;
    }

    private static boolean negativeZero(float v) {
        return Float.floatToRawIntBits(v) == Float.floatToRawIntBits(-0f);
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "BF16"})
    void matchesTheCpu(DType dtype) {
        int t = 37;
        int s = 5000;
        float[] values = RandomData.floats(9, t * s);
        values[3 * s + 10] = values[3 * s + 20] = 1e6f; // a tie: the smaller id wins
        values[4 * s + 300] = values[4 * s + 20] = 1e6f; // a tie across warps (warp 1's thread 44, warp 0's thread 20)
        for (int j = 4000; j < s; j++) {
            values[5 * s + j] = 1e9f; // beyond valid: must never win
        }
        values[6 * s + 3999] = 1e9f; // the last valid column
        try (Tensor host = Tensor.ofFloats(dtype, values, t, s);
             VocabArgmax.Local gpu = assertSameAsCpu(host, 4000, 1000)) {
            long[] ids = ids(gpu);
            assertEquals(1010, ids[3]);
            assertEquals(1020, ids[4]);
            assertTrue(ids[5] >= 1000 && ids[5] < 5000, "a valid column: " + ids[5]);
            assertEquals(4999, ids[6]);
            // The allocating form runs the same kernel.
            try (Tensor logits = host.copyTo(GPU); VocabArgmax.Local allocated = VocabArgmax.local(ExecutionContext.defaultFor(GPU), logits, 4000, 1000)) {
                assertArrayEquals(ids, ids(allocated));
                assertArrayEquals(gpu.values().toFloatArray(), allocated.values().toFloatArray());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "BF16"})
    void signedZerosTieAndTheSmallestIdWinsInEveryReductionStage(DType dtype) {
        int s = 700;
        int valid = 650;
        // Row by row: where -0 and +0 go, and which column wins (the smaller; it keeps its own sign).
        // The block has 256 threads of 8 warps; thread j % 256 scans column j.
        int[][] zeros = {
            // {column of -0, column of +0, winning column}
            {88, 344, 88},   // one thread's scan (88 and 88 + 256), -0 first
            {344, 88, 88},   // ... +0 first
            {3, 17, 3},      // one warp's shuffles
            {17, 3, 3},
            {9, 40, 9},      // across warps (warp 0 and warp 1), through shared memory
            {40, 9, 9},
            {255, 260, 255}, // warp 7's -0 against warp 0's +0 (thread 4's second column)
            {260, 255, 255},
            {649, 660, 649}, // +0 in a padding column does not count
        };
        float[] values = negatives(21, zeros.length * s);
        for (int r = 0; r < zeros.length; r++) {
            values[r * s + zeros[r][0]] = -0f;
            values[r * s + zeros[r][1]] = 0f;
        }
        try (Tensor host = Tensor.ofFloats(dtype, values, zeros.length, s);
             VocabArgmax.Local gpu = assertSameAsCpu(host, valid, 5000)) {
            long[] ids = ids(gpu);
            float[] got = gpu.values().toFloatArray();
            for (int r = 0; r < zeros.length; r++) {
                assertEquals(5000 + zeros[r][2], ids[r], "row " + r);
                assertEquals(zeros[r][2] == zeros[r][0], negativeZero(got[r]), "row " + r + ": the winner's own zero, " + got[r]);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "BF16"})
    void aNanIsSurfacedAndNansTieToTheSmallestId(DType dtype) {
        int s = 4000;
        int valid = 3500;
        float[] values = RandomData.floats(33, 5 * s);
        values[1234] = NAN;                                      // row 0: one NaN
        values[s + 900] = values[s + 77] = NAN;                  // row 1: two, the smaller id wins
        values[2 * s + 3] = INF;                                 // row 2: NaN above +inf
        values[2 * s + 3000] = NAN;
        values[3 * s + 3600] = NAN;                              // row 3: a NaN in padding does not count
        values[4 * s + 2] = NAN;                                 // row 4: NaN against -inf everywhere else
        for (int j = 0; j < s; j++) {
            if (j != 2) {
                values[4 * s + j] = Float.NEGATIVE_INFINITY;
            }
        }
        try (Tensor host = Tensor.ofFloats(dtype, values, 5, s);
             VocabArgmax.Local gpu = assertSameAsCpu(host, valid, 100)) {
            long[] ids = ids(gpu);
            float[] got = gpu.values().toFloatArray();
            assertEquals(1334, ids[0]);
            assertEquals(177, ids[1]);
            assertEquals(3100, ids[2]);
            assertTrue(ids[3] >= 100 && ids[3] < 100 + valid && !Float.isNaN(got[3]), ids[3] + " " + got[3]);
            assertEquals(102, ids[4]);
            for (int r : new int[] {0, 1, 2, 4}) {
                assertTrue(Float.isNaN(got[r]), "row " + r);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"F32", "BF16"})
    void withoutValidColumnsEveryTokenReportsMinusInfinityAndNoId(DType dtype) {
        try (Tensor host = Tensor.ofFloats(dtype, RandomData.floats(4, 3 * 64), 3, 64);
             VocabArgmax.Local gpu = assertSameAsCpu(host, 0, 128)) {
            assertArrayEquals(new long[] {VocabArgmax.NO_ID, VocabArgmax.NO_ID, VocabArgmax.NO_ID}, ids(gpu));
            assertArrayEquals(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY},
                    gpu.values().toFloatArray());
        }
    }

    @Test
    void ranksCombineSignedZerosAndNansByTheSameRule() {
        // 4 ranks of S = 300 (the last with 250 valid columns); rank r holds ids 300r + j.
        int s = 300;
        int t = 5;
        long[] valid = {300, 300, 300, 250};
        float[][] logits = new float[4][];
        for (int r = 0; r < 4; r++) {
            logits[r] = negatives(50 + r, t * s);
        }
        logits[2][10] = 0f;                                  // token 0: +0 at id 610 and -0 at id 599: 599
        logits[1][299] = -0f;
        logits[0][s + 250] = -0f;                            // token 1: -0 at 250, +0 at 300 and 905: 250
        logits[1][s] = 0f;
        logits[3][s + 5] = 0f;
        logits[3][2 * s + 100] = NAN;                        // token 2: NaN at 1000 above +inf at 7: 1000
        logits[0][2 * s + 7] = INF;
        logits[1][3 * s + 3] = logits[2][3 * s + 1] = NAN;   // token 3: NaNs at 303 and 601: 303; one in padding
        logits[3][3 * s + 260] = NAN;
        logits[3][4 * s + 249] = 0f;                         // token 4: -0 at id 0 and +0 at 1149: 0
        logits[0][4 * s] = -0f;
        List<VocabArgmax.Local> gpu = new ArrayList<>();
        List<VocabArgmax.Local> cpu = new ArrayList<>();
        try {
            for (int r = 3; r >= 0; r--) { // the order ranks arrive in does not matter
                try (Tensor host = Tensor.ofFloats(DType.F32, logits[r], t, s)) {
                    gpu.add(onGpu(host, valid[r], 300L * r));
                    cpu.add(VocabArgmax.local(ExecutionContext.cpu(), host, valid[r], 300L * r));
                }
            }
            long[] expected = {599, 250, 1000, 303, 0};
            assertArrayEquals(expected, VocabArgmax.combine(gpu));
            assertArrayEquals(expected, VocabArgmax.combine(cpu));
        } finally {
            gpu.forEach(VocabArgmax.Local::close);
            cpu.forEach(VocabArgmax.Local::close);
        }
    }

    @Test
    void queuedArgmaxIntoReusedBuffersMatchesTheCpu() {
        int t = 19;
        int s = 3000;
        try (Tensor host = Tensor.ofFloats(DType.F32, RandomData.floats(12, t * s), t, s);
             Tensor gpu = host.copyTo(GPU);
             VocabArgmax.Local cpu = VocabArgmax.local(ExecutionContext.cpu(), host, 2900, 500);
             VocabArgmax.Local out = new VocabArgmax.Local(Tensor.allocate(GPU, DType.F32, t),
                     Tensor.allocate(GPU, DType.I64, t));
             ExecutionContext ctx = ExecutionContext.create(GPU)) {
            for (int run = 0; run < 2; run++) {
                Poison.poison(out.values());
                Poison.poison(out.ids());
                VocabArgmax.local(ctx, gpu, 2900, 500, out);
                ctx.synchronize();
                assertArrayEquals(cpu.values().toFloatArray(), out.values().toFloatArray());
                assertArrayEquals(ids(cpu), ids(out));
            }
            try (VocabArgmax.Local shortOut = new VocabArgmax.Local(Tensor.allocate(GPU, DType.F32, t - 1),
                    Tensor.allocate(GPU, DType.I64, t - 1))) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> VocabArgmax.local(ctx, gpu, 2900, 500, shortOut));
                assertTrue(e.getMessage().contains("[" + t + "]"), e.getMessage());
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> VocabArgmax.local(ctx, host, 2900, 500, out));
            assertTrue(e.getMessage().contains("on cpu"), e.getMessage());
        }
    }
}
