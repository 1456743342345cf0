package io.tpkernels.ops.cpu;

import io.tpkernels.runtime.DType;
import java.util.Arrays;
import java.util.List;

/**
 * One task of the CPU GEMM: rows of x by rows of W, 4 rows of W at a time, every product's sums in the same
 * {@link Lanes}, then added up and written through the {@link Epilogue}. W is never copied whole: at decode (fewer
 * than 4 rows of x) BF16 or F32 W is read where it is stored and widened in registers
 * ({@link DotKernels#dot1x4Stored}); otherwise {@code KC} columns of 4 rows at a time are widened into a block that
 * stays in L1 while every row of x runs against it ({@link DotKernels#dot4x4} by 4 rows, {@link DotKernels#dot1x4}
 * for the rest).
 */
final class GemmTile {
    /** Rows of x per task at most: their lanes for 4 rows of W ({@code MC·4·16} floats, 32 KB) wait in L1 or L2. */
    static final int MC = 128;
    /** Columns per block of W: 4 rows of it widened take 8 KB, in L1 while every row of x passes. */
    private static final int KC = 512;
    private static final int LANES = Lanes.COUNT;

    /** Where in the sums array {@link DotKernels#sum16} leaves 16 sums, after the task's {@code MC·NC}. */
    private static final int SUM16 = MC * CpuGemm.NC;

    /** Per running task: the widened block of W, the lanes of 4 rows of W's sums, and the task's sums (then 16 more). */
    private static final ScratchPool<float[][]> SCRATCH = new ScratchPool<>(() -> new float[][] {
            new float[4 * KC], new float[MC * 4 * LANES], new float[SUM16 + 16]});

    private GemmTile() {
    }

    /**
     * Output rows {@code [t0, t0 + rows)} by rows {@code [j0, j1)} of W; {@code xs[p]} holds product {@code p}'s x
     * widened, its row 0 being output row {@code xRow0}, at row stride {@code Lanes.padded(K_p)}.
     */
    static void run(DotKernels kernels, List<CpuGemm.Product> products, float[][] xs, int xRow0, Epilogue epilogue,
                    int t0, int rows, int j0, int j1) {
        float[][] scratch = SCRATCH.take();
        try {
            run(kernels, products, xs, xRow0, epilogue, t0, rows, j0, j1, scratch);
        } finally {
            SCRATCH.give(scratch);
        }
    }

    private static void run(DotKernels kernels, List<CpuGemm.Product> products, float[][] xs, int xRow0,
                            Epilogue epilogue, int t0, int rows, int j0, int j1, float[][] scratch) {
        float[] block = scratch[0];
        float[] acc = scratch[1];
        float[] sums = scratch[2];
        int cols = j1 - j0;
        for (int g = j0; g < j1; g += 4) {
            int wRows = Math.min(4, j1 - g);
            Arrays.fill(acc, 0, rows * 4 * LANES, 0f);
            for (int p = 0; p < xs.length; p++) {
                accumulate(kernels, xs[p], t0 - xRow0, rows, products.get(p).w(), g, wRows, block, acc);
            }
            int r = 0;
            for (; r + 4 <= rows; r += 4) { // sums[r·cols + column in the task] for the 4 rows, 4 columns at once
                kernels.sum16(acc, r * 4 * LANES, sums, SUM16);
                for (int i = 0; i < 4; i++) {
                    System.arraycopy(sums, SUM16 + 4 * i, sums, (r + i) * cols + g - j0, wRows);
                }
            }
            for (; r < rows; r++) {
                for (int j = 0; j < wRows; j++) {
                    sums[r * cols + g - j0 + j] = Lanes.sum(acc, (r * 4 + j) * LANES);
                }
            }
        }
        epilogue.write(t0, rows, j0, cols, sums, cols);
    }

    /**
     * Adds one product's rows {@code [x0, x0 + rows)} of {@code x} (widened, at row stride {@code Lanes.padded(K)})
     * by rows {@code [g, g + wRows)} of {@code w} to the lanes in {@code acc}, {@code KC} columns at a time. With
     * fewer than 4 rows of x and W in BF16 or F32, W is read where it is stored, for every row of x (the rows after
     * the first find it in L1), and only the last group of 16 columns, if K ends inside it, is widened with zero
     * padding; otherwise each block of W is widened into {@code block} and every row of x runs against it.
     */
    private static void accumulate(DotKernels kernels, float[] x, int x0, int rows, CpuGemm.Operand w, int g,
                                   int wRows, float[] block, float[] acc) {
        int k = Math.toIntExact(w.cols());
        int ldx = Lanes.padded(k);
        boolean stored = rows < 4 && wRows == 4 && (w.dtype() == DType.BF16 || w.dtype() == DType.F32);
        long size = w.dtype().byteSize();
        for (int k0 = 0; k0 < ldx; k0 += KC) {
            int kLen = Math.min(KC, ldx - k0);
            int widenFrom = 0;
            if (stored) {
                widenFrom = Math.min(kLen, k - k0) & -LANES; // the whole groups of 16 that W holds
                for (int r = 0; r < rows; r++) {
                    kernels.dot1x4Stored(x, (x0 + r) * ldx + k0, w.data(), (g * w.ld() + k0) * size, w.ld() * size,
                            w.dtype() == DType.BF16, widenFrom, acc, r * 4 * LANES);
                }
                if (widenFrom == kLen) {
                    continue;
                }
            }
            int width = kLen - widenFrom;
            for (int j = 0; j < 4; j++) {
                Widening.row(kernels, w, j < wRows ? g + j : -1, k0 + widenFrom, width, block, j * KC);
            }
            int xOff = k0 + widenFrom;
            int r = 0;
            for (; r + 4 <= rows; r += 4) {
                kernels.dot4x4(x, (x0 + r) * ldx + xOff, ldx, block, 0, KC, width, acc, r * 4 * LANES);
            }
            for (; r < rows; r++) {
                kernels.dot1x4(x, (x0 + r) * ldx + xOff, block, 0, KC, width, acc, r * 4 * LANES);
            }
        }
    }
}
