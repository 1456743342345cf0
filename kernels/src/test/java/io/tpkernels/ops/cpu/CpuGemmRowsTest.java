package io.tpkernels.ops.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.ops.cpu.CpuGemm.Operand;
import io.tpkernels.ops.cpu.CpuGemmRows.Term;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.RandomData;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The backward's GEMM, NN and TN, one term or several, against the order its contract names: each element one chain
 * of fused multiply-adds from +0 over the terms in order and q ascending, each coefficient {@code α·a(i, q)} one f32
 * product. Bit for bit, whatever the tasks and blocks (shapes cross {@code MC}, {@code NC} and the blocks of b),
 * the operands' dtypes and row strides; and within f32 rounding of the sum in double.
 */
class CpuGemmRowsTest {

    @Provide
    Arbitrary<DType> floatTypes() {
        return Arbitraries.of(DType.F32, DType.F16, DType.BF16);
    }

    /** A matrix stored as {@code dtype} with row stride {@code ld ≥ cols}, and its values as read back. */
    record Matrix(Tensor tensor, float[] values, int rows, int cols, int ld) implements AutoCloseable {
        static Matrix random(DType dtype, int rows, int cols, int pad, long seed) {
            int ld = cols + pad;
            int size = Math.max(1, rows * ld);
            Tensor t = Tensor.ofFloats(dtype, RandomData.moderate(seed, size), size);
            return new Matrix(t, t.toFloatArray(), rows, cols, ld);
        }

        Operand operand() {
            return new Operand(tensor.hostSegment(), tensor.dtype(), rows, cols, ld);
        }

        float at(int i, int j) {
            return values[i * ld + j];
        }

        @Override
        public void close() {
            tensor.close();
        }
    }

    /** The contract's order, written out: {@code Σ_p Σ_q fma(α_p·a_p(i, q), b_p[q, j], ·)} from +0. */
    private static float chain(List<Matrix[]> operands, List<Term> terms, int i, int j) {
        float s = 0f;
        for (int p = 0; p < terms.size(); p++) {
            Matrix a = operands.get(p)[0];
            Matrix b = operands.get(p)[1];
            Term term = terms.get(p);
            for (int q = 0; q < b.rows(); q++) {
                float c = term.alpha() * (term.transposeA() ? a.at(q, i) : a.at(i, q));
                s = Math.fma(c, b.at(q, j), s);
            }
        }
        return s;
    }

    @Property(tries = 25)
    void everyElementIsItsChainInTheContractOrder(@ForAll @IntRange(min = 1, max = 150) int rows,
                                                  @ForAll @IntRange(min = 1, max = 600) int cols,
                                                  @ForAll @IntRange(min = 0, max = 3) int termCount,
                                                  @ForAll("floatTypes") DType dtype, @ForAll boolean transposeFirst,
                                                  @ForAll @IntRange(min = 0, max = 3) int pad, @ForAll long seed) {
        check(rows, cols, termCount + 1, dtype, transposeFirst, pad, seed);
    }

    /** Shapes that surely cross every block: 3 tasks of rows, 3 of columns, 3 blocks of b with a ragged end. */
    @Test
    void largeShapesCrossEveryBlock() {
        for (DType dtype : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            check(2 * CpuGemmRows.MC + 22, 2 * CpuGemmRows.NC + 88, 3, dtype, true, 1, 17); // depths 17, 50, 3
            check(2 * CpuGemmRows.MC + 1, CpuGemmRows.NC + 1, 2, dtype, false, 0, 79); // depths 79, 32
        }
    }

    /**
     * {@code terms} terms (NN or TN, the first as asked, the second F32 with α = 0.3) of depths 0 to 79 drawn from
     * {@code seed}, written at row stride {@code cols + 5} into poisoned memory, against {@link #chain}.
     */
    private static void check(int rows, int cols, int terms, DType dtype, boolean transposeFirst, int pad, long seed) {
        List<Matrix[]> operands = new ArrayList<>();
        List<Term> list = new ArrayList<>();
        long s = seed;
        for (int p = 0; p < terms; p++) {
            int depth = (int) Math.floorMod(s + 31L * p, 80L); // 0 to 79: none, one block of b, or several
            boolean tn = p == 0 ? transposeFirst : p % 2 == 0;
            Matrix a = tn ? Matrix.random(dtype, depth, rows, pad, s++) : Matrix.random(dtype, rows, depth, pad, s++);
            Matrix b = Matrix.random(p == 1 ? DType.F32 : dtype, depth, cols, pad, s++);
            float alpha = p == 1 ? 0.3f : 1f;
            operands.add(new Matrix[] {a, b});
            list.add(new Term(alpha, a.operand(), tn, b.operand()));
        }
        long ldOut = cols + 5;
        try (Tensor out = Tensor.ofFloats(DType.F32, new float[(int) (rows * ldOut)], rows * ldOut)) {
            MemorySegment o = out.hostSegment();
            o.fill((byte) 0x7f); // poison: the padding past each row must stay so
            CpuGemmRows.multiply(list, o, ldOut);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    float got = o.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i * ldOut + j);
                    assertEquals(Float.floatToIntBits(chain(operands, list, i, j)), Float.floatToIntBits(got),
                            "element [" + i + ", " + j + "] of " + rows + " × " + cols + ", " + dtype);
                }
                for (long j = cols; j < ldOut; j++) {
                    assertEquals(0x7f7f7f7f, o.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i * ldOut + j), "padding");
                }
            }
        } finally {
            for (Matrix[] m : operands) {
                m[0].close();
                m[1].close();
            }
        }
    }

    /** NN and TN of one term within f32 rounding of the exact sum: {@code 1e-5·Σ|terms|}. */
    @Property(tries = 25)
    void nnAndTnAreTheProductsToF32Rounding(@ForAll @IntRange(min = 1, max = 20) int rows,
                                           @ForAll @IntRange(min = 1, max = 40) int cols,
                                           @ForAll @IntRange(min = 0, max = 100) int depth, @ForAll long seed) {
        try (Matrix a = Matrix.random(DType.F32, rows, depth, 0, seed);
             Matrix at = Matrix.random(DType.F32, depth, rows, 0, seed + 1);
             Matrix b = Matrix.random(DType.F32, depth, cols, 0, seed + 2);
             Tensor nn = Tensor.allocate(Device.CPU, DType.F32, rows, cols);
             Tensor tn = Tensor.allocate(Device.CPU, DType.F32, rows, cols)) {
            CpuGemmRows.multiplyNN(a.operand(), b.operand(), 2f, nn.hostSegment(), cols);
            CpuGemmRows.multiplyTN(at.operand(), b.operand(), 2f, tn.hostSegment(), cols);
            float[] gotNn = nn.toFloatArray();
            float[] gotTn = tn.toFloatArray();
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    double sNn = 0, absNn = 0, sTn = 0, absTn = 0;
                    for (int q = 0; q < depth; q++) {
                        double pn = 2.0 * a.at(i, q) * b.at(q, j);
                        double pt = 2.0 * at.at(q, i) * b.at(q, j);
                        sNn += pn;
                        absNn += Math.abs(pn);
                        sTn += pt;
                        absTn += Math.abs(pt);
                    }
                    assertEquals(sNn, gotNn[i * cols + j], 1e-5 * absNn + 1e-30, "NN [" + i + ", " + j + "]");
                    assertEquals(sTn, gotTn[i * cols + j], 1e-5 * absTn + 1e-30, "TN [" + i + ", " + j + "]");
                }
            }
        }
    }

    @Test
    void refusesTermsThatDoNotFit() {
        try (Matrix a = Matrix.random(DType.F32, 3, 4, 0, 1);
             Matrix b = Matrix.random(DType.F32, 5, 2, 0, 2);
             Matrix b4 = Matrix.random(DType.F32, 4, 2, 0, 3);
             Matrix b4wide = Matrix.random(DType.F32, 4, 3, 0, 4)) {
            String m = assertThrows(IllegalArgumentException.class, () -> Term.nn(1f, a.operand(), b.operand()))
                    .getMessage();
            assertTrue(m.contains("b has 5 rows"), m);
            MemorySegment out = MemorySegment.ofArray(new float[64]);
            m = assertThrows(IllegalArgumentException.class, () -> CpuGemmRows.multiply(
                    List.of(Term.nn(1f, a.operand(), b4.operand()), Term.nn(1f, a.operand(), b4wide.operand())),
                    out, 3)).getMessage();
            assertTrue(m.contains("different shapes"), m);
        }
    }
}
