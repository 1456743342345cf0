package io.tpkernels.collective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.GpuTest;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The in-process group with ranks sharing one GPU gives bit for bit what it gives on the CPU, and what
 * {@link ReduceOp} documents: sums in rank order in f32 rounded once, MAX's signed zeros and canonical NaNs.
 */
@GpuTest
class LocalGroupCudaTest {

    private static double[][] collectives(Device device, int size, DType dtype) {
        List<double[]> out = LocalGroup.run(size, g -> {
            long[] shape = {size * 2L, 3L * size};
            try (Tensor host = LocalGroupPropertiesTest.input(dtype, 5, g.rank(), shape);
                 Tensor t = host.copyTo(device)) {
                g.allReduce(ExecutionContext.defaultFor(t.device()), t, ReduceOp.SUM);
                try (Tensor gathered = g.allGather(ExecutionContext.defaultFor(t.device()), t, 1);
                     Tensor scattered = g.reduceScatter(ExecutionContext.defaultFor(t.device()), t, 0, ReduceOp.MAX);
                     Tensor exchanged = g.allToAll(ExecutionContext.defaultFor(t.device()), t, 1, 0);
                     Tensor full = g.rank() == 1 % size ? t.copyTo(device) : null;
                     Tensor slab = g.scatterFromRank(ExecutionContext.defaultFor(device), full, 1 % size, 1)) {
                    g.broadcast(ExecutionContext.defaultFor(t.device()), t, size - 1);
                    double[] all = concat(t, gathered, scattered, exchanged, slab);
                    return all;
                }
            }
        });
        return out.toArray(double[][]::new);
    }

    private static double[] concat(Tensor... ts) {
        double[][] parts = new double[ts.length][];
        int n = 0;
        for (int i = 0; i < ts.length; i++) {
            try (Tensor h = ts[i].copyTo(Device.CPU)) {
                parts[i] = LocalGroupPropertiesTest.values(h);
            }
            n += parts[i].length;
        }
        double[] out = new double[n];
        int at = 0;
        for (double[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    @ParameterizedTest(name = "{0} ranks, {1}, seed {2}")
    @CsvSource({"2, F32, 1", "3, BF16, 2", "5, F32, 3", "8, BF16, 4", "8, F32, 5"})
    void sumsInRankOrderInF32AndRoundsOnceOnTheGpu(int size, DType dtype, long seed) {
        int count = 64;
        float[][] byRank = LocalGroupSumOrderTest.inputsByRank(size, seed, count);
        List<float[]> results = LocalGroupSumOrderTest.allReduceSums(Device.cuda(0), dtype, size, seed, count);
        for (int r = 0; r < size; r++) {
            for (int i = 0; i < count; i++) {
                assertEquals(LocalGroupSumOrderTest.expectedSum(dtype, byRank, i), results.get(r)[i],
                        "element " + i + " on rank " + r);
            }
        }
        float[][] wide = LocalGroupSumOrderTest.inputsByRank(size, seed, size * 8);
        float[] scattered = LocalGroupSumOrderTest.reduceScatterSums(Device.cuda(0), dtype, size, seed, 8);
        for (int i = 0; i < size * 8; i++) {
            assertEquals(LocalGroupSumOrderTest.expectedSum(dtype, wide, i), scattered[i], "reduce-scatter element " + i);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"F32", "BF16", "F16"})
    void signedZerosAndNansComeOutBitForBitAsOnTheCpu(DType dtype) {
        int[][] pairs = LocalGroupSpecialValuesTest.allPairs(dtype);
        int[] expected = LocalGroupSpecialValuesTest.expectedMaxOfPairs(dtype, pairs);
        List<int[]> gpu = LocalGroupSpecialValuesTest.allReduceBits(Device.cuda(0), dtype, ReduceOp.MAX, pairs);
        List<int[]> cpu = LocalGroupSpecialValuesTest.allReduceBits(Device.CPU, dtype, ReduceOp.MAX, pairs);
        for (int r = 0; r < 2; r++) {
            LocalGroupSpecialValuesTest.assertBits(expected, gpu.get(r), "MAX on the GPU, rank " + r);
            assertArrayEquals(cpu.get(r), gpu.get(r), "MAX: GPU and CPU bits, rank " + r);
        }
        int[][] three = {{0x8000_0000, 0x0000_0000}, {0x0000_0000, 0x8000_0000}, {0x8000_0000, 0x8000_0000}};
        if (dtype != DType.F32) {
            for (int[] rank : three) {
                for (int i = 0; i < rank.length; i++) {
                    rank[i] >>>= 16; // the same signed zeros as 16-bit floats
                }
            }
        }
        int[] zeros = LocalGroupSpecialValuesTest.allReduceBits(Device.cuda(0), dtype, ReduceOp.MAX, three).get(2);
        assertArrayEquals(new int[] {0, 0}, zeros, "-0, +0, -0 and +0, -0, -0: +0 on three ranks");
        List<int[]> sums = LocalGroupSpecialValuesTest.allReduceBits(Device.cuda(0), dtype, ReduceOp.SUM,
                LocalGroupSpecialValuesTest.nanSumInputs(dtype));
        for (int r = 0; r < 2; r++) {
            LocalGroupSpecialValuesTest.assertBits(LocalGroupSpecialValuesTest.nanSumExpected(dtype), sums.get(r),
                    "SUM on the GPU, rank " + r);
        }
    }

    @ParameterizedTest(name = "{0} ranks, {1}")
    @CsvSource({"1, F32", "2, BF16", "4, F32", "8, F16", "3, I64"})
    void gpuRanksMatchCpuRanks(int size, DType dtype) {
        double[][] cpu = collectives(Device.CPU, size, dtype);
        double[][] gpu = collectives(Device.cuda(0), size, dtype);
        for (int r = 0; r < size; r++) {
            assertArrayEquals(cpu[r], gpu[r], "rank " + r);
        }
    }
}
