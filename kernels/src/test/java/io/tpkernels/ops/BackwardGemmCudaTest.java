package io.tpkernels.ops;

import static io.tpkernels.ops.Gradcheck.assertClose;

import io.tpkernels.ops.BackwardGemmCuda.Matrix;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.RandomData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link BackwardGemmCuda} by both of its paths (cuBLAS where found, and the kernel of backward_gemm.cu) against a
 * double reference: A as stored or transposed, A's rows strided, accumulation into the output, ragged tile edges,
 * an empty sum.
 */
@GpuTest
class BackwardGemmCudaTest {
    private static final Device GPU = Device.cuda(0);

    @ParameterizedTest(name = "{0} x {1}, transposed A {2}, M={3} N={4} K={5} lda={6}, accumulate {7}, cuBLAS {8}")
    @CsvSource({
        "F32, F32, false, 37, 70, 45, 45, false, false",
        "F32, F32, false, 37, 70, 45, 45, false, true",
        "F32, F32, true, 65, 33, 20, 65, true, false",
        "F32, F32, true, 65, 33, 20, 65, true, true",
        "F32, BF16, false, 70, 66, 19, 30, true, true",
        "BF16, F16, true, 3, 129, 17, 5, false, false",
        "F16, F32, false, 64, 64, 16, 16, false, false",
        "BF16, BF16, false, 9, 5, 33, 40, false, true",
        "BF16, BF16, false, 9, 5, 33, 40, true, false",
        "F32, BF16, false, 12, 7, 0, 3, false, false",
        "F32, F32, false, 12, 7, 0, 3, true, true",
    })
    void matchesTheDoubleReference(DType aType, DType bType, boolean transposeA, int m, int n, int k, int lda,
                                   boolean accumulate, boolean cublas) {
        int aRows = transposeA ? k : m;
        int aStored = Math.max(1, aRows) * lda; // lda >= A's row length: the columns beyond it are never read
        float[] a = RandomData.moderate(11, aStored);
        float[] b = RandomData.moderate(12, k * n);
        float[] c0 = RandomData.moderate(13, m * n);
        float alpha = 0.75f;
        try (ExecutionContext ctx = ExecutionContext.create(GPU);
             Tensor ah = Tensor.ofFloats(aType, a, aStored);
             Tensor bh = Tensor.ofFloats(bType, b, k, n);
             Tensor ad = ah.copyTo(GPU);
             Tensor bd = bh.copyTo(GPU);
             Tensor out = Tensor.ofFloats(DType.F32, c0, m, n).copyTo(GPU)) {
            BackwardGemmCuda.multiply(ctx, new Matrix(ad, aRows, transposeA ? m : k, lda), transposeA,
                    Matrix.of(bd), alpha, accumulate, out, cublas);
            ctx.synchronize();
            float[] av = ah.toFloatArray();
            float[] bv = bh.toFloatArray();
            double[] want = new double[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0;
                    for (int p = 0; p < k; p++) {
                        sum += (double) av[transposeA ? p * lda + i : i * lda + p] * bv[p * n + j];
                    }
                    want[i * n + j] = alpha * sum + (accumulate ? c0[i * n + j] : 0);
                }
            }
            assertClose(want, out.toFloatArray(), 1e-5, "out");
        }
    }
}
