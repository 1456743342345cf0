package io.tpkernels.collective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Device;
import io.tpkernels.tensor.Tensor;
import io.tpkernels.testing.GpuTest;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The in-process group with ranks sharing one GPU gives bit for bit what it gives on the CPU. */
@GpuTest
class LocalGroupCudaTest {

    private static double[][] collectives(Device device, int size, DType dtype) {
        List<double[]> out = LocalGroup.run(size, g -> {
            long[] shape = {size * 2L, 3L * size};
            try (Tensor host = LocalGroupPropertiesTest.input(dtype, 5, g.rank(), shape);
                 Tensor t = host.copyTo(device)) {
                g.allReduce(t, ReduceOp.SUM);
                try (Tensor gathered = g.allGather(t, 1);
                     Tensor scattered = g.reduceScatter(t, 0, ReduceOp.MAX);
                     Tensor exchanged = g.allToAll(t, 1, 0);
                     Tensor full = g.rank() == 1 % size ? t.copyTo(device) : null;
                     Tensor slab = g.scatterFromRank(full, 1 % size, 1)) {
                    g.broadcast(t, size - 1);
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
