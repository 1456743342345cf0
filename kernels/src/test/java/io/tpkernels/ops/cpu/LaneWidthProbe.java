package io.tpkernels.ops.cpu;

import io.tpkernels.ops.cpu.CpuGemm.Bias;
import io.tpkernels.ops.cpu.CpuGemm.Operand;
import io.tpkernels.ops.cpu.CpuGemm.Product;
import io.tpkernels.runtime.DType;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Prints which kernels this JVM runs and a fingerprint of the bits of a few fixed GEMMs (every dtype, decode and
 * prefill row counts, two products, column scale and bias; and the backward's NN and TN), for {@link LaneWidthTest}
 * to compare across JVMs with other vector widths and without the Vector API. Heap memory only, so it needs no
 * native access.
 */
public final class LaneWidthProbe {
    private LaneWidthProbe() {
    }

    public static void main(String[] args) {
        System.out.println(DotKernels.best().describe());
        System.out.println(fingerprint());
    }

    static String fingerprint() {
        StringBuilder sb = new StringBuilder();
        for (DType dtype : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            for (int t : new int[] {1, 7}) {
                sb.append(dtype).append(" T=").append(t).append(": ").append(run(dtype, t, 37, 1041, 19)).append('\n');
            }
        }
        for (DType dtype : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            sb.append(dtype).append(" backward: ").append(backward(dtype, 70, 300, 45)).append('\n');
        }
        return sb.toString().strip();
    }

    /** The backward's GEMM ({@link CpuGemmRows}): {@code a·b + 0.75·cᵀ·d}, more than one task each way. */
    private static int backward(DType dtype, int rows, int cols, int depth) {
        SplittableRandom random = new SplittableRandom(dtype.ordinal() * 37L + depth);
        Operand a = operand(dtype, random, rows, depth);
        Operand b = operand(dtype, random, depth, cols);
        Operand c = operand(dtype, random, depth, rows);
        Operand d = operand(dtype, random, depth, cols);
        float[] out = new float[rows * cols];
        CpuGemmRows.multiply(List.of(CpuGemmRows.Term.nn(1f, a, b), CpuGemmRows.Term.tn(0.75f, c, d)),
                MemorySegment.ofArray(out), cols);
        return hash(out);
    }

    private static int run(DType dtype, int t, int n, int k, int k2) {
        SplittableRandom random = new SplittableRandom(dtype.ordinal() * 31L + t);
        Operand x = operand(dtype, random, t, k);
        Operand w = operand(dtype, random, n, k);
        Operand x2 = operand(dtype, random, t, k2);
        Operand w2 = operand(dtype, random, n, k2);
        float[] scale = new float[n];
        for (int j = 0; j < n; j++) {
            scale[j] = (float) random.nextDouble(0.5, 1.5);
        }
        Operand bias = operand(dtype, random, 1, n);
        float[] out = new float[t * n];
        CpuGemm.multiplyNT(List.of(new Product(x, w), new Product(x2, w2)), 0.75f, MemorySegment.ofArray(scale),
                new Bias(bias.data(), dtype), MemorySegment.ofArray(out), DType.F32, n);
        return hash(out);
    }

    private static int hash(float[] out) {
        int[] bits = new int[out.length];
        for (int i = 0; i < out.length; i++) {
            bits[i] = Float.floatToIntBits(out[i]);
        }
        return Arrays.hashCode(bits);
    }

    private static Operand operand(DType dtype, SplittableRandom random, int rows, int cols) {
        MemorySegment data = dtype == DType.F32 ? MemorySegment.ofArray(new float[rows * cols])
                : MemorySegment.ofArray(new short[rows * cols]);
        for (int i = 0; i < rows * cols; i++) {
            dtype.setFloat(data, i, (float) random.nextGaussian());
        }
        return new Operand(data, dtype, rows, cols, cols);
    }
}
