package io.tpkernels.ops.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.ops.cpu.CpuGemm.Bias;
import io.tpkernels.ops.cpu.CpuGemm.Operand;
import io.tpkernels.ops.cpu.CpuGemm.Product;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.GemmReference;
import io.tpkernels.testing.RandomData;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.FloatRange;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The CPU GEMM on its own, every form its callers use (one product or two as LoRA's, alpha, DoRA's column scale,
 * bias, F32 or BF16 out, operands with a row stride wider than their columns): against a double reference on
 * random data, at decode shapes (T from 1 to 17: whole groups of 4 rows and the rows left over) and N, K that
 * are not multiples of any vector or block; and its sums the same bits for a row alone as in any batch and for
 * a column in any shard.
 */
class CpuGemmTest {

    private static final DType[] DTYPES = {DType.F32, DType.F16, DType.BF16};

    /** One GEMM's inputs on the host, each row of x and W {@code pad} elements wider than its columns. */
    private static final class Case implements AutoCloseable {
        final DType dtype;
        final int t;
        final int n;
        final int k;
        final int k2;
        final int pad;
        final float alpha;
        final boolean scaled;
        final boolean biased;
        private final String name;
        /** x, W, the second product's x and W, the column scale, the bias. */
        private final Tensor[] in;

        Case(DType dtype, int t, int n, int k, int k2, int pad, float alpha, boolean scaled, boolean biased, long seed) {
            this.dtype = dtype;
            this.t = t;
            this.n = n;
            this.k = k;
            this.k2 = k2;
            this.pad = pad;
            this.alpha = alpha;
            this.scaled = scaled;
            this.biased = biased;
            this.name = dtype + " T=" + t + " N=" + n + " K=" + k + (k2 > 0 ? " + K2=" + k2 : "") + " pad " + pad
                    + " alpha " + alpha + (scaled ? " scaled" : "") + (biased ? " biased" : "") + " seed " + seed;
            int k2Cols = Math.max(k2, 1);
            this.in = new Tensor[] {
                    Tensor.ofFloats(dtype, RandomData.floats(seed, t * (k + pad)), t, k + pad),
                    Tensor.ofFloats(dtype, RandomData.floats(seed + 1, n * (k + pad)), n, k + pad),
                    Tensor.ofFloats(dtype, RandomData.floats(seed + 2, t * k2Cols), t, k2Cols),
                    Tensor.ofFloats(dtype, RandomData.floats(seed + 3, n * k2Cols), n, k2Cols),
                    Tensor.ofFloats(DType.F32, RandomData.columnScale(seed + 4, n), n),
                    Tensor.ofFloats(dtype, RandomData.floats(seed + 5, n), n)};
        }

        @Override
        public String toString() {
            return name;
        }

        /**
         * Rows {@code [r0, r1)} of x by rows {@code [j0, j1)} of W into {@code out} ({@code [r1 - r0, ldOut]}),
         * through {@link CpuGemm#multiplyNT(List, float, MemorySegment, Bias, MemorySegment, DType, long)}.
         */
        void run(int r0, int r1, int j0, int j1, Tensor out) {
            long e = dtype.byteSize();
            List<Product> products = new ArrayList<>();
            products.add(new Product(rows(in[0], r0, r1, k, k + pad), rows(in[1], j0, j1, k, k + pad)));
            if (k2 > 0) {
                products.add(new Product(rows(in[2], r0, r1, k2, k2), rows(in[3], j0, j1, k2, k2)));
            }
            CpuGemm.multiplyNT(products, alpha, scaled ? in[4].hostSegment().asSlice(4L * j0, 4L * (j1 - j0)) : null,
                    biased ? new Bias(in[5].hostSegment().asSlice(e * j0, e * (j1 - j0)), dtype) : null,
                    out.hostSegment(), out.dtype(), out.dim(1));
        }

        private Operand rows(Tensor m, int from, int to, int cols, int ld) {
            long e = dtype.byteSize();
            return new Operand(m.hostSegment().asSlice(e * from * ld, e * (to - from) * ld), dtype, to - from, cols, ld);
        }

        /** {@code {exact, scale}}: {@code c·alpha·Σ + bias} in double from the dtype-rounded inputs, and its error scale. */
        double[][][] reference() {
            float[] x = in[0].toFloatArray();
            float[] w = in[1].toFloatArray();
            float[] x2 = in[2].toFloatArray();
            float[] w2 = in[3].toFloatArray();
            float[] c = in[4].toFloatArray();
            float[] b = in[5].toFloatArray();
            double[][] exact = new double[t][n];
            double[][] scale = new double[t][n];
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    double a = 0;
                    for (int q = 0; q < k; q++) {
                        double p = (double) x[i * (k + pad) + q] * w[j * (k + pad) + q];
                        s += p;
                        a += Math.abs(p);
                    }
                    for (int q = 0; q < k2; q++) {
                        double p = (double) x2[i * k2 + q] * w2[j * k2 + q];
                        s += p;
                        a += Math.abs(p);
                    }
                    double factor = alpha * (scaled ? c[j] : 1.0);
                    exact[i][j] = factor * s + (biased ? b[j] : 0);
                    scale[i][j] = Math.abs(factor) * a + (biased ? Math.abs(b[j]) : 0);
                }
            }
            return new double[][][] {exact, scale};
        }

        @Override
        public void close() {
            for (Tensor tensor : in) {
                tensor.close();
            }
        }
    }

    /** Runs {@code c} whole into a poisoned output 3 columns wider than N, checks it, and checks the 3 untouched. */
    private static void checkAgainstTheReference(Case c, DType outDtype) {
        try (c; Tensor out = Tensor.allocate(Device.CPU, outDtype, c.t, c.n + 3)) {
            out.fillBytes((byte) 0xFF);
            c.run(0, c.t, 0, c.n, out);
            float[] got = out.toFloatArray();
            GemmReference.assertWithin(c.reference(), got, c.n + 3, GemmReference.F32_TOLERANCE,
                    outDtype == DType.BF16 ? 1.0 / 256 : 0, c + " into " + outDtype);
            for (int i = 0; i < c.t; i++) {
                for (int j = c.n; j < c.n + 3; j++) {
                    assertTrue(Float.isNaN(got[i * (c.n + 3) + j]), c + ": column " + j + " of row " + i + " written");
                }
            }
        }
    }

    @Property(tries = 80)
    void decodeShapesMatchTheDoubleReference(@ForAll @IntRange(min = 0, max = 2) int dtype,
                                             @ForAll @IntRange(min = 1, max = 17) int t,
                                             @ForAll @IntRange(min = 1, max = 70) int n,
                                             @ForAll @IntRange(min = 1, max = 1100) int k,
                                             @ForAll @IntRange(min = 0, max = 40) int k2,
                                             @ForAll @IntRange(min = 0, max = 5) int pad,
                                             @ForAll @FloatRange(min = -3, max = 3) float alpha,
                                             @ForAll boolean scaled, @ForAll boolean biased, @ForAll boolean bf16Out,
                                             @ForAll long seed) {
        checkAgainstTheReference(new Case(DTYPES[dtype], t, n, k, k2, pad, alpha == 0 ? 1 : alpha, scaled, biased,
                seed), bf16Out ? DType.BF16 : DType.F32);
    }

    @Test
    void prefillShapesMatchTheDoubleReference() {
        // More rows than one task takes, k over several blocks, N over several tasks, with the rows left over.
        checkAgainstTheReference(new Case(DType.BF16, 141, 133, 1043, 16, 0, 1f, false, false, 1), DType.F32);
        checkAgainstTheReference(new Case(DType.F32, 131, 67, 517, 0, 3, -0.5f, true, true, 2), DType.BF16);
        checkAgainstTheReference(new Case(DType.F16, 36, 257, 33, 7, 1, 2f, true, false, 3), DType.F32);
        // More rows than x is widened for at once (2^22 floats): two slabs of rows, the second a partial one.
        checkAgainstTheReference(new Case(DType.BF16, 2053, 5, 2040, 3, 1, 1f, false, true, 4), DType.F32);
    }

    /**
     * What a call leaves in its thread's buffers never reaches the next call: after a W of infinities, a GEMM whose K
     * ends inside a group of 16 (so its last block of W is padded) and whose last group of W's rows is partial is
     * still exact. Zero padding matters here: an infinity left in the padding times x's zero padding is NaN.
     */
    @Test
    void nonFiniteValuesOfOneCallDoNotReachTheNext() {
        int t = 5;
        int n = 6;
        int k = 37;
        float[] infinities = new float[n * 48];
        java.util.Arrays.fill(infinities, Float.POSITIVE_INFINITY);
        try (Tensor x = Tensor.ofFloats(DType.BF16, RandomData.floats(1, t * 48), t, 48);
             Tensor w = Tensor.ofFloats(DType.BF16, infinities, n, 48);
             Tensor out = Tensor.allocate(Device.CPU, DType.F32, t, n)) {
            // One task (T and N small), so it runs on this thread, as the next call's will.
            CpuGemm.multiplyNT(new Operand(x.hostSegment(), DType.BF16, t, 48, 48),
                    new Operand(w.hostSegment(), DType.BF16, n, 48, 48), out.hostSegment(), DType.F32, n);
        }
        checkAgainstTheReference(new Case(DType.BF16, t, n, k, 0, 0, 1f, false, false, 4), DType.F32);
    }

    /**
     * The same row of x gives the same bits alone (decode) as at any position of a batch (prefill), and the same
     * row of W in any shard of W's rows: each sum is the same arithmetic wherever it is computed.
     */
    @Property(tries = 30)
    void aRowIsTheSameBitsAloneAsInABatchAndAColumnInAnyShard(@ForAll @IntRange(min = 0, max = 2) int dtype,
                                                              @ForAll @IntRange(min = 2, max = 140) int t,
                                                              @ForAll @IntRange(min = 2, max = 90) int n,
                                                              @ForAll @IntRange(min = 1, max = 700) int k,
                                                              @ForAll @IntRange(min = 0, max = 20) int k2,
                                                              @ForAll @IntRange(min = 0, max = 10_000) int where,
                                                              @ForAll long seed) {
        int row = where % t;
        int j0 = where % n;
        int j1 = j0 + 1 + (where / 7) % (n - j0);
        try (Case c = new Case(DTYPES[dtype], t, n, k, k2, 1, 1.5f, true, true, seed);
             Tensor all = Tensor.allocate(Device.CPU, DType.F32, t, n);
             Tensor alone = Tensor.allocate(Device.CPU, DType.F32, 1, n);
             Tensor shard = Tensor.allocate(Device.CPU, DType.F32, t, j1 - j0)) {
            c.run(0, t, 0, n, all);
            c.run(row, row + 1, 0, n, alone);
            c.run(0, t, j0, j1, shard);
            float[] batch = all.toFloatArray();
            float[] single = alone.toFloatArray();
            float[] part = shard.toFloatArray();
            for (int j = 0; j < n; j++) {
                assertEquals(Float.floatToIntBits(batch[row * n + j]), Float.floatToIntBits(single[j]),
                        c + ": row " + row + " alone, column " + j);
            }
            for (int i = 0; i < t; i++) {
                for (int j = j0; j < j1; j++) {
                    assertEquals(Float.floatToIntBits(batch[i * n + j]), Float.floatToIntBits(part[i * (j1 - j0) + j - j0]),
                            c + ": shard [" + j0 + ", " + j1 + "), row " + i + ", column " + j);
                }
            }
        }
    }
}
