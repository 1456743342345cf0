package io.tpkernels.ops.cpu;

import io.tpkernels.runtime.DType;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The CPU GEMM every CPU operation shares:
 * <pre>
 *   out[t, j] = c[j] · alpha · Σ_p Σ_k x_p[t, k] · w_p[j, k]  +  bias[j]        t &lt; T, j &lt; N
 * </pre>
 * over one or more {@link Product}s that share {@code T} and {@code N} (the base product, and LoRA's expand
 * step folded into the same sums), both operands row-major with {@code k} contiguous as PyTorch weights are;
 * accumulated in f32 in the {@link Lanes} order (the products one after another in the same 16 lanes), scaled
 * by the optional F32 column scale {@code c} (DoRA's) and biased in f32, and written once as {@code outDtype} at
 * row stride {@code ldOut}. Each element's sum is the same arithmetic wherever it sits and whatever else is
 * computed with it, so a shard's columns come out exactly as the unsharded GEMM's, and a token's row the same
 * alone (decode) as in a batch (prefill).
 *
 * <p>No operand is packed and nothing is converted ahead: x is widened to f32 once per call (it is small where W
 * is large; a long prefill goes in slabs of rows), and W is read in its stored dtype and layout by each task
 * ({@link GemmTile}): at decode straight from memory into the sums, so that it streams at the bandwidth the cores
 * can read; at prefill a few rows at a time widened into L1, once for up to {@code GemmTile.MC} rows of x. Tasks of
 * up to {@code GemmTile.MC} rows of x by {@code NC} rows of W run in parallel on the common fork-join pool.
 */
public final class CpuGemm {
    /** Rows of W per task: enough tasks to share out at decode, few enough that each is worth a fork. */
    static final int NC = 64;
    /**
     * Floats of widened x per slab of rows: a long prefill runs as slabs of rows one after another, so that x is
     * never widened whole (each slab reads W again, a small cost beside its thousands of rows).
     */
    private static final long X_FLOATS = 1 << 22;

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
        multiplyNT(List.of(new Product(x, w)), 1f, null, out, outDtype, ldOut);
    }

    /**
     * {@code out[t·ldOut + j] = alpha·Σ_p x_p[t]·w_p[j] + bias[j]} for {@code t < T}, {@code j < N}; every product
     * has the same {@code T} (x rows) and {@code N} (w rows). {@code bias} may be {@code null}.
     */
    public static void multiplyNT(List<Product> products, float alpha, Bias bias, MemorySegment out,
                                  DType outDtype, long ldOut) {
        multiplyNT(products, alpha, null, bias, out, outDtype, ldOut);
    }

    /**
     * {@code out[t·ldOut + j] = c[j]·alpha·Σ_p x_p[t]·w_p[j] + bias[j]}, as {@link #multiplyNT(List, float,
     * Bias, MemorySegment, DType, long)} with a column scale {@code c}: {@code N} F32 values, or {@code null} for
     * none (then the result is that method's, bit for bit). The scale is applied in f32 to the alpha-scaled sum,
     * before the bias and the one rounding to {@code outDtype}.
     */
    public static void multiplyNT(List<Product> products, float alpha, MemorySegment columnScale, Bias bias,
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
        DotKernels kernels = DotKernels.best();
        Epilogue epilogue = new Epilogue(alpha, columnScale, bias, out, outDtype, ldOut);
        long widenedColumns = 0;
        for (Product p : products) {
            widenedColumns += Lanes.padded(Math.toIntExact(p.x().cols()));
        }
        int slabRows = (int) Math.max(GemmTile.MC, X_FLOATS / Math.max(1, widenedColumns) / GemmTile.MC * GemmTile.MC);
        for (int s0 = 0; s0 < t; s0 += slabRows) {
            slab(kernels, products, epilogue, s0, Math.min(t, s0 + slabRows), n);
        }
    }

    /** Rows {@code [s0, s1)}: their x widened, then tasks of up to {@code MC} of them by {@code NC} rows of W. */
    private static void slab(DotKernels kernels, List<Product> products, Epilogue epilogue, int s0, int s1, int n) {
        float[][] xs = new float[products.size()][];
        for (int p = 0; p < xs.length; p++) {
            xs[p] = Widening.rows(kernels, products.get(p).x(), s0, s1);
        }
        int rowBlocks = (s1 - s0 + GemmTile.MC - 1) / GemmTile.MC;
        int colBlocks = (n + NC - 1) / NC;
        IntStream tasks = IntStream.range(0, rowBlocks * colBlocks);
        (rowBlocks * colBlocks > 1 ? tasks.parallel() : tasks).forEach(task -> {
            int t0 = s0 + (task / colBlocks) * GemmTile.MC;
            int j0 = (task % colBlocks) * NC;
            GemmTile.run(kernels, products, xs, s0, epilogue, t0, Math.min(s1 - t0, GemmTile.MC), j0,
                    Math.min(n, j0 + NC));
        });
    }
}
