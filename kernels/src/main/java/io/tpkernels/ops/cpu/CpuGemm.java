package io.tpkernels.ops.cpu;

import io.tpkernels.runtime.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.stream.IntStream;

/**
 * The CPU GEMM every CPU operation shares:
 * <pre>
 *   out[t, j] = c[j] · alpha · Σ_p Σ_k x_p[t, k] · w_p[j, k]  +  bias[j]        t &lt; T, j &lt; N
 * </pre>
 * over one or more {@link Product}s that share {@code T} and {@code N} (the base product, and LoRA's expand
 * step folded into the same accumulators), both operands row-major with {@code k} contiguous as PyTorch
 * weights are; accumulated in f32, scaled by the optional F32 column scale {@code c} (DoRA's) and biased in f32,
 * and written once as {@code outDtype} at row stride {@code ldOut}.
 *
 * <p>Blocked for the caches: tasks of {@code MC} rows of x by {@code NC} rows of w run in parallel; within a
 * task, blocks of {@code KC} columns are converted to f32 and packed (x by rows, w in k-major panels), then
 * {@link DotKernels#block} sweeps the tile as outer products: each element of C is a chain of fused multiply-adds
 * over each {@code KC}-wide block of k, the blocks' sums added in block order; the same arithmetic wherever the
 * element sits, so a shard's columns come out exactly as the unsharded GEMM's. Inputs of any float dtype are converted while packing, so
 * BF16 weights are read once per task and never copied whole.
 */
public final class CpuGemm {
    private static final int MC = 256;
    private static final int NC = 128;
    private static final int KC = 512;

    private static final ThreadLocal<float[][]> BUFFERS = ThreadLocal.withInitial(() -> new float[4][]);
    /**
     * Row stride of the staging area: KC plus a cache line, so that the panel's rows, read down a column when
     * transposing, do not all fall into the same few L1 sets (a 2 KB stride did, and packing ran 2x slower).
     */
    private static final int STAGE_STRIDE = KC + 16;
    /** A panel's rows converted to f32, on their way into the panel. */
    private static final ThreadLocal<float[]> STAGE = ThreadLocal.withInitial(() -> new float[0]);
    /** One row of 16-bit elements as read. */
    private static final ThreadLocal<short[]> BITS = ThreadLocal.withInitial(() -> new short[KC]);

    private CpuGemm() {
    }

    /** One operand: {@code rows × cols} elements of {@code dtype} at row stride {@code ld} (elements). */
    public record Operand(MemorySegment data, DType dtype, long rows, long cols, long ld) {
    }

    /** {@code x · wᵀ}: {@code x} is {@code [T, K]}, {@code w} is {@code [N, K]}. */
    public record Product(Operand x, Operand w) {
        public Product {
            if (x.cols() != w.cols()) {
                throw new IllegalArgumentException("GEMM: x has " + x.cols() + " columns but w has " + w.cols());
            }
        }
    }

    /** A bias added after the products: {@code N} elements of {@code dtype}. */
    public record Bias(MemorySegment data, DType dtype) {
    }

    /**
     * {@code out[t·ldOut + j] = Σ_k x[t, k]·w[j, k]} for {@code t < x.rows}, {@code j < w.rows};
     * {@code x.cols == w.cols}.
     */
    public static void multiplyNT(Operand x, Operand w, MemorySegment out, DType outDtype, long ldOut) {
        multiplyNT(java.util.List.of(new Product(x, w)), 1f, null, out, outDtype, ldOut);
    }

    /**
     * {@code out[t·ldOut + j] = alpha·Σ_p x_p[t]·w_p[j] + bias[j]} for {@code t < T}, {@code j < N}; every product
     * has the same {@code T} (x rows) and {@code N} (w rows). {@code bias} may be {@code null}.
     */
    public static void multiplyNT(java.util.List<Product> products, float alpha, Bias bias, MemorySegment out,
                                  DType outDtype, long ldOut) {
        multiplyNT(products, alpha, null, bias, out, outDtype, ldOut);
    }

    /**
     * {@code out[t·ldOut + j] = c[j]·alpha·Σ_p x_p[t]·w_p[j] + bias[j]}, as {@link #multiplyNT(java.util.List, float,
     * Bias, MemorySegment, DType, long)} with a column scale {@code c}: {@code N} F32 values, or {@code null} for
     * none (then the result is that method's, bit for bit). The scale is applied in f32 to the alpha-scaled sum,
     * before the bias and the one rounding to {@code outDtype}.
     */
    public static void multiplyNT(java.util.List<Product> products, float alpha, MemorySegment columnScale, Bias bias,
                                  MemorySegment out, DType outDtype, long ldOut) {
        int t = Math.toIntExact(products.get(0).x().rows());
        int n = Math.toIntExact(products.get(0).w().rows());
        for (Product p : products) {
            if (p.x().rows() != t || p.w().rows() != n) {
                throw new IllegalArgumentException("GEMM: products of different shapes: " + products);
            }
        }
        if (t == 0 || n == 0) {
            return;
        }
        int mc = Math.min(MC, roundUp(t, 4));
        int rowBlocks = (t + mc - 1) / mc;
        int colBlocks = (n + NC - 1) / NC;
        IntStream tasks = IntStream.range(0, rowBlocks * colBlocks);
        (rowBlocks * colBlocks > 1 ? tasks.parallel() : tasks).forEach(task ->
                tile(products, alpha, columnScale, bias, out, outDtype, ldOut, (task / colBlocks) * mc,
                        Math.min(t, (task / colBlocks + 1) * mc), (task % colBlocks) * NC,
                        Math.min(n, (task % colBlocks + 1) * NC)));
    }

    private static void tile(java.util.List<Product> products, float alpha, MemorySegment columnScale, Bias bias,
                             MemorySegment out, DType outDtype, long ldOut, int t0, int t1, int j0, int j1) {
        DotKernels kernels = DotKernels.best();
        int panel = kernels.panelWidth();
        int rowsA = roundUp(t1 - t0, 4);
        int rowsB = roundUp(j1 - j0, panel);
        float[][] buf = BUFFERS.get();
        float[] a = buffer(buf, 0, rowsA * KC);
        float[] b = buffer(buf, 1, rowsB * KC);
        float[] c = buffer(buf, 2, rowsA * rowsB);
        float[] block = buffer(buf, 3, 4 * panel);
        java.util.Arrays.fill(c, 0, rowsA * rowsB, 0f);
        for (Product p : products) {
            int k = Math.toIntExact(p.x().cols());
            for (int k0 = 0; k0 < k; k0 += KC) {
                int kLen = Math.min(KC, k - k0);
                packRows(p.x(), t0, t1, rowsA, k0, kLen, a);
                packPanels(p.w(), j0, j1, rowsB, k0, kLen, panel, b);
                for (int i = 0; i < rowsA; i += 4) {
                    for (int j = 0; j < rowsB; j += panel) {
                        kernels.block(a, i * KC, KC, b, j * KC, kLen, block, 0, panel);
                        addBlock(block, panel, c, i * rowsB + j, rowsB);
                    }
                }
            }
        }
        for (int i = 0; i < t1 - t0; i++) {
            long rowOut = (t0 + i) * ldOut;
            for (int j = 0; j < j1 - j0; j++) {
                float v = alpha * c[i * rowsB + j];
                if (columnScale != null) {
                    v *= columnScale.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, j0 + j);
                }
                if (bias != null) {
                    v += bias.dtype().getFloat(bias.data(), j0 + j);
                }
                outDtype.setFloat(out, rowOut + j0 + j, v);
            }
        }
    }

    /** {@code c += block}: a k-block's sums onto the sums of the k-blocks before it, in k-block order. */
    private static void addBlock(float[] block, int panel, float[] c, int cOff, int ldc) {
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < panel; j++) {
                c[cOff + i * ldc + j] += block[i * panel + j];
            }
        }
    }

    /** Rows {@code [r0, r1)}, columns {@code [k0, k0+kLen)} of {@code op} as f32 at row stride {@code KC}; rows past r1 zero. */
    private static void packRows(Operand op, int r0, int r1, int rows, int k0, int kLen, float[] dst) {
        short[] bits = BITS.get(); // once per block, not once per row
        for (int r = 0; r < rows; r++) {
            convertRow(op, r0 + r < r1 ? r0 + r : -1, k0, kLen, dst, r * KC, bits);
        }
    }

    /**
     * Rows {@code [r0, r1)}, columns {@code [k0, k0+kLen)} of {@code op} as f32 panels of {@code panel} rows, k-major:
     * row {@code r0 + q·panel + j}, column {@code k0 + k} at {@code q·panel·KC + k·panel + j}; rows past r1 zero.
     * A panel's rows are converted into a staging area first and then transposed from there, so that both the
     * reads of the operand and the writes of the panel run in order.
     */
    private static void packPanels(Operand op, int r0, int r1, int rows, int k0, int kLen, int panel, float[] dst) {
        short[] bits = BITS.get();
        float[] stage = STAGE.get();
        if (stage.length < panel * STAGE_STRIDE) {
            stage = new float[panel * STAGE_STRIDE];
            STAGE.set(stage);
        }
        for (int p = 0; p < rows; p += panel) {
            for (int j = 0; j < panel; j++) {
                convertRow(op, r0 + p + j < r1 ? r0 + p + j : -1, k0, kLen, stage, j * STAGE_STRIDE, bits);
            }
            int base = p * KC;
            for (int k = 0; k < kLen; k++) {
                for (int j = 0; j < panel; j++) {
                    dst[base + k * panel + j] = stage[j * STAGE_STRIDE + k];
                }
            }
        }
    }

    /** Columns {@code [k0, k0+kLen)} of row {@code r} of {@code op} as f32 at {@code dst[off...]}; zeros for r = -1. */
    private static void convertRow(Operand op, int r, int k0, int kLen, float[] dst, int off, short[] bits) {
        if (r < 0) {
            java.util.Arrays.fill(dst, off, off + kLen, 0f);
            return;
        }
        long src = r * op.ld() + k0;
        switch (op.dtype()) {
            case F32 -> MemorySegment.copy(op.data(), ValueLayout.JAVA_FLOAT_UNALIGNED, src * 4, dst, off, kLen);
            case BF16 -> {
                MemorySegment.copy(op.data(), ValueLayout.JAVA_SHORT_UNALIGNED, src * 2, bits, 0, kLen);
                for (int q = 0; q < kLen; q++) {
                    dst[off + q] = Float.intBitsToFloat(bits[q] << 16); // exact: BF16 is f32's upper half
                }
            }
            case F16 -> {
                MemorySegment.copy(op.data(), ValueLayout.JAVA_SHORT_UNALIGNED, src * 2, bits, 0, kLen);
                for (int q = 0; q < kLen; q++) {
                    dst[off + q] = Float.float16ToFloat(bits[q]);
                }
            }
            default -> {
                for (int q = 0; q < kLen; q++) {
                    dst[off + q] = op.dtype().getFloat(op.data(), src + q);
                }
            }
        }
    }

    private static float[] buffer(float[][] buf, int which, int size) {
        if (buf[which] == null || buf[which].length < size) {
            buf[which] = new float[size];
        }
        return buf[which];
    }

    private static int roundUp(int v, int m) {
        return (v + m - 1) / m * m;
    }
}
