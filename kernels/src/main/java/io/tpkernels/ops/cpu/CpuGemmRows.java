package io.tpkernels.ops.cpu;

import io.tpkernels.ops.cpu.CpuGemm.Operand;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The CPU GEMM of the backward, for the two layouts {@link CpuGemm} does not take: {@code dy·W} (NN, the input
 * gradient through a weight {@code W[N, K]}) and {@code dyᵀ·x} (TN, a weight gradient summed over tokens):
 * <pre>
 *   out[i, j] = Σ_p Σ_q (α_p·a_p(i, q))·b_p[q, j]        a_p(i, q) = a_p[i, q] (NN)  or  a_p[q, i] (TN)
 * </pre>
 * over one or more {@link Term}s that share the output's shape (LoRA's {@code dy·W + s·(dy·B)·A} is one call of
 * two terms). Each row {@code q} of {@code b} is scaled by its coefficient {@code α·a(i, q)} (one f32 product, exact
 * when {@code α = 1}) and added into row {@code i} of the sums, one fused multiply-add per element: each element
 * is one chain from +0 over the terms in order and {@code q} ascending, accumulated in f32 and written once as F32
 * (gradients are F32 whatever the compute dtype). The chain of an element depends on nothing else (not on the
 * output's other rows and columns, not on the tasks or the vector width), so an element computed in a shard is
 * the unsharded one bit for bit, and the same call gives the same bits every time: partials summed in rank order
 * are reproducible.
 *
 * <p>Operands are read in their stored dtype (F32, F16, BF16) and layout, widened exactly to f32 a block at a time
 * ({@link RowTile}); nothing is converted ahead. Tasks of up to {@link #MC} output rows by {@link #NC} output
 * columns run in parallel on the common fork-join pool.
 */
public final class CpuGemmRows {
    /** Output rows per task. */
    static final int MC = 64;
    /** Output columns per task: a multiple of 16, so a row of sums is whole vectors. */
    static final int NC = 256;

    private CpuGemmRows() {
    }

    /**
     * One term {@code α·a·b} (NN) or {@code α·aᵀ·b} (TN): {@code b} is {@code [Q, J]}, {@code a} is {@code [I, Q]}
     * (NN) or {@code [Q, I]} (TN); the term adds to an {@code [I, J]} output.
     */
    public record Term(float alpha, Operand a, boolean transposeA, Operand b) {
        public Term {
            if (depth(a, transposeA) != b.rows()) {
                throw new IllegalArgumentException("GEMM " + (transposeA ? "aᵀ·b" : "a·b") + ": a is [" + a.rows()
                        + ", " + a.cols() + "] but b has " + b.rows() + " rows");
            }
        }

        /** {@code α·a·b}: {@code a [I, Q]}, {@code b [Q, J]}. */
        public static Term nn(float alpha, Operand a, Operand b) {
            return new Term(alpha, a, false, b);
        }

        /** {@code α·aᵀ·b}: {@code a [Q, I]}, {@code b [Q, J]}. */
        public static Term tn(float alpha, Operand a, Operand b) {
            return new Term(alpha, a, true, b);
        }

        /** The output rows, {@code I}. */
        long rows() {
            return transposeA ? a.cols() : a.rows();
        }

        /** The summed dimension, {@code Q}. */
        long depth() {
            return depth(a, transposeA);
        }

        private static long depth(Operand a, boolean transposeA) {
            return transposeA ? a.rows() : a.cols();
        }
    }

    /** {@code out[i·ldOut + j] = Σ_q (α·a[i, q])·b[q, j]} (F32): {@code a [I, Q]}, {@code b [Q, J]}. */
    public static void multiplyNN(Operand a, Operand b, float alpha, MemorySegment out, long ldOut) {
        multiply(List.of(Term.nn(alpha, a, b)), out, ldOut);
    }

    /** {@code out[i·ldOut + j] = Σ_q (α·a[q, i])·b[q, j]} (F32): {@code a [Q, I]}, {@code b [Q, J]}. */
    public static void multiplyTN(Operand a, Operand b, float alpha, MemorySegment out, long ldOut) {
        multiply(List.of(Term.tn(alpha, a, b)), out, ldOut);
    }

    /**
     * {@code out[i·ldOut + j] = Σ_p Σ_q (α_p·a_p(i, q))·b_p[q, j]} (F32) for {@code i < I}, {@code j < J}; every term
     * has the same {@code I} and {@code J}. With no {@code q} at all (every {@code Q = 0}) the output is +0.
     */
    public static void multiply(List<Term> terms, MemorySegment out, long ldOut) {
        multiply(terms, out, ldOut, false);
    }

    /**
     * As {@link #multiply(List, MemorySegment, long)}, with {@code accumulate}: each element's chain starts from its
     * value in {@code out} instead of +0 ({@code out += Σ ...}), so that partial products summed over chunks of
     * {@code q} are one chain per element.
     */
    public static void multiply(List<Term> terms, MemorySegment out, long ldOut, boolean accumulate) {
        int rows = Math.toIntExact(terms.get(0).rows());
        int cols = Math.toIntExact(terms.get(0).b().cols());
        for (Term term : terms) {
            if (term.rows() != rows || term.b().cols() != cols) {
                throw new IllegalArgumentException("GEMM: terms of different shapes: " + terms);
            }
        }
        if (ldOut < cols) {
            throw new IllegalArgumentException("GEMM: output row stride " + ldOut + " < " + cols + " columns");
        }
        if (rows == 0 || cols == 0) {
            return;
        }
        RowKernels rowKernels = RowKernels.best();
        DotKernels widening = DotKernels.best();
        int rowBlocks = (rows + MC - 1) / MC;
        int colBlocks = (cols + NC - 1) / NC;
        IntStream tasks = IntStream.range(0, rowBlocks * colBlocks);
        (rowBlocks * colBlocks > 1 ? tasks.parallel() : tasks).forEach(task -> {
            int i0 = (task / colBlocks) * MC;
            int j0 = (task % colBlocks) * NC;
            RowTile.run(rowKernels, widening, terms, out, ldOut, i0, Math.min(MC, rows - i0), j0,
                    Math.min(NC, cols - j0), accumulate);
        });
    }
}
