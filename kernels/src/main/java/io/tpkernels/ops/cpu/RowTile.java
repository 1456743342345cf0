package io.tpkernels.ops.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

/**
 * One task of {@link CpuGemmRows}: output rows {@code [i0, i0 + rows)} by columns {@code [j0, j0 + cols)}, their
 * sums in an f32 block. For each term, {@code QB} rows of {@code b} at a time (their task's columns) are widened
 * into a block that stays in cache while every output row runs against it, with the coefficients
 * {@code α·a(i, q)} of those rows widened beside it; then each output row adds the {@code QB} rows of b in order of
 * {@code q}, 4 rows of b at a time for 4 output rows at once ({@link RowKernels#axpy4x4}) or one
 * ({@link RowKernels#axpy4}), and one row of b at a time for the rest. The columns are padded with
 * zeros to whole groups of 16 (the padding is never written out); the summed dimension is never padded, so each
 * chain has exactly the fused multiply-adds the contract names.
 */
final class RowTile {
    /** Rows of b per block: with {@link CpuGemmRows#NC} columns, 32 KB widened. */
    private static final int QB = 32;
    private static final int NC = CpuGemmRows.NC;
    private static final int MC = CpuGemmRows.MC;

    /** Per running task: the sums, a block of b, its coefficients, and one row of a widened. */
    private static final ScratchPool<float[][]> SCRATCH = new ScratchPool<>(() -> new float[][] {
            new float[MC * NC], new float[QB * NC], new float[MC * QB], new float[Math.max(MC, QB)]});

    private RowTile() {
    }

    static void run(RowKernels kernels, DotKernels widening, List<CpuGemmRows.Term> terms, MemorySegment out,
                    long ldOut, int i0, int rows, int j0, int cols, boolean accumulate) {
        float[][] scratch = SCRATCH.take();
        try {
            run(kernels, widening, terms, out, ldOut, i0, rows, j0, cols, accumulate, scratch);
        } finally {
            SCRATCH.give(scratch);
        }
    }

    private static void run(RowKernels kernels, DotKernels widening, List<CpuGemmRows.Term> terms, MemorySegment out,
                            long ldOut, int i0, int rows, int j0, int cols, boolean accumulate, float[][] scratch) {
        float[] acc = scratch[0];
        float[] block = scratch[1];
        float[] coef = scratch[2];
        float[] row = scratch[3];
        int width = Lanes.padded(cols);
        Arrays.fill(acc, 0, rows * width, 0f);
        if (accumulate) { // each chain starts from the element's value instead of +0
            for (int i = 0; i < rows; i++) {
                long at = ((i0 + i) * ldOut + j0) * 4;
                MemorySegment.copy(out, ValueLayout.JAVA_FLOAT_UNALIGNED, at, acc, i * width, cols);
            }
        }
        for (CpuGemmRows.Term term : terms) {
            int depth = Math.toIntExact(term.depth());
            for (int q0 = 0; q0 < depth; q0 += QB) {
                int qb = Math.min(QB, depth - q0);
                for (int q = 0; q < qb; q++) {
                    Widening.row(widening, term.b(), q0 + q, j0, width, block, q * width);
                }
                coefficients(widening, term, i0, rows, q0, qb, coef, row);
                int i = 0;
                for (; i + 4 <= rows; i += 4) {
                    int q = 0;
                    for (; q + 4 <= qb; q += 4) {
                        kernels.axpy4x4(coef, i * QB + q, QB, block, q * width, width, acc, i * width, width, width);
                    }
                    for (int r = i; r < i + 4; r++) {
                        tail(kernels, coef, r, q, qb, block, width, acc);
                    }
                }
                for (; i < rows; i++) {
                    int q = 0;
                    for (; q + 4 <= qb; q += 4) {
                        kernels.axpy4(coef, i * QB + q, block, q * width, width, acc, i * width, width);
                    }
                    tail(kernels, coef, i, q, qb, block, width, acc);
                }
            }
        }
        for (int i = 0; i < rows; i++) {
            long at = ((i0 + i) * ldOut + j0) * 4;
            MemorySegment.copy(acc, i * width, out, ValueLayout.JAVA_FLOAT_UNALIGNED, at, cols);
        }
    }

    /** Output row {@code i} goes on over the block's rows {@code [q, qb)} of b, one at a time. */
    private static void tail(RowKernels kernels, float[] coef, int i, int q, int qb, float[] block, int width,
                             float[] acc) {
        for (; q < qb; q++) {
            kernels.axpy1(coef[i * QB + q], block, q * width, acc, i * width, width);
        }
    }

    /** {@code coef[i·QB + q] = α·a(i0 + i, q0 + q)} for {@code i < rows}, {@code q < qb}. */
    private static void coefficients(DotKernels widening, CpuGemmRows.Term term, int i0, int rows, int q0, int qb,
                                     float[] coef, float[] row) {
        float alpha = term.alpha();
        if (term.transposeA()) { // a [Q, I]: row q0 + q holds the coefficients of every output row
            for (int q = 0; q < qb; q++) {
                Widening.row(widening, term.a(), q0 + q, i0, rows, row, 0);
                for (int i = 0; i < rows; i++) {
                    coef[i * QB + q] = alpha * row[i];
                }
            }
        } else { // a [I, Q]: row i0 + i holds output row i's coefficients
            for (int i = 0; i < rows; i++) {
                Widening.row(widening, term.a(), i0 + i, q0, qb, row, 0);
                for (int q = 0; q < qb; q++) {
                    coef[i * QB + q] = alpha * row[q];
                }
            }
        }
    }
}
