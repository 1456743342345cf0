package io.tpkernels.collective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Every collective of the in-process group against its mathematical definition, for 1 to 8 ranks, float and
 * integer dtypes, and 2-D and 3-D shapes split along any dimension. Rank r's input is a function of (r, index)
 * so the expected value of every output element can be written down directly.
 */
class LocalGroupPropertiesTest {

    private static final DType[] DTYPES = {DType.F32, DType.BF16, DType.F16, DType.I32, DType.I64};

    /** Rank r's element i: small integers, exact in every dtype, never zero for floats. */
    static float value(long seed, int rank, long i) {
        return (float) (((seed + 31L * rank + 7L * i) % 19) - 9) + 0.5f;
    }

    static Tensor input(DType dtype, long seed, int rank, long[] shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        if (dtype.isFloatingPoint()) {
            float[] v = new float[(int) n];
            for (int i = 0; i < n; i++) {
                v[i] = value(seed, rank, i);
            }
            return Tensor.ofFloats(dtype, v, shape);
        }
        long[] v = new long[(int) n];
        for (int i = 0; i < n; i++) {
            v[i] = (long) Math.floor(value(seed, rank, i));
        }
        return Tensor.ofLongs(dtype, v, shape);
    }

    static double element(DType dtype, long seed, int rank, long i) {
        float v = value(seed, rank, i);
        return dtype.isFloatingPoint() ? v : Math.floor(v);
    }

    /** A sum as the group computes it: f32 in rank order, then rounded to the dtype once (integers exact). */
    static double rounded(DType dtype, double v) {
        return switch (dtype) {
            case BF16 -> DType.bf16BitsToFloat(DType.floatToBf16Bits((float) v));
            case F16 -> DType.f16BitsToFloat(DType.floatToF16Bits((float) v));
            case F32 -> (float) v;
            default -> v;
        };
    }

    static double[] values(Tensor t) {
        double[] out = new double[(int) t.numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = t.dtype().isFloatingPoint() ? t.dtype().getFloat(t.hostSegment(), i) : t.dtype().getLong(t.hostSegment(), i);
        }
        return out;
    }

    /** Row-major strides of a shape. */
    static long[] strides(long[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            s[d] = acc;
            acc *= shape[d];
        }
        return s;
    }

    static long[] index(long flat, long[] shape) {
        long[] idx = new long[shape.length];
        long[] st = strides(shape);
        for (int d = 0; d < shape.length; d++) {
            idx[d] = flat / st[d];
            flat %= st[d];
        }
        return idx;
    }

    static long flat(long[] idx, long[] shape) {
        long[] st = strides(shape);
        long f = 0;
        for (int d = 0; d < shape.length; d++) {
            f += idx[d] * st[d];
        }
        return f;
    }

    private static long[] shape(int size, int rank3, int a, int b, int c, int splitDim) {
        long[] s = rank3 == 1 ? new long[] {a, b, c} : new long[] {a, b};
        s[splitDim % s.length] *= size; // divisible along the split dimension
        return s;
    }

    @Property(tries = 40)
    void allReduceSumsAndMaxesInRankOrder(@ForAll @IntRange(min = 1, max = 8) int size, @ForAll @IntRange(min = 0, max = 4) int dt,
                                          @ForAll @IntRange(min = 1, max = 5) int a, @ForAll @IntRange(min = 1, max = 6) int b,
                                          @ForAll boolean max, @ForAll long seed) {
        DType dtype = DTYPES[dt];
        long[] shape = {a, b};
        ReduceOp op = max ? ReduceOp.MAX : ReduceOp.SUM;
        List<double[]> results = LocalGroup.run(size, g -> {
            try (Tensor t = input(dtype, seed, g.rank(), shape)) {
                g.allReduce(ExecutionContext.defaultFor(t.device()), t, op);
                return values(t);
            }
        });
        for (int i = 0; i < a * b; i++) {
            double e = element(dtype, seed, 0, i);
            for (int r = 1; r < size; r++) {
                e = max ? Math.max(e, element(dtype, seed, r, i)) : e + element(dtype, seed, r, i);
            }
            for (int r = 0; r < size; r++) {
                assertEquals(rounded(dtype, e), results.get(r)[i], "element " + i + " on rank " + r);
            }
        }
    }

    @Property(tries = 40)
    void allGatherConcatenatesAlongAnyDimension(@ForAll @IntRange(min = 1, max = 8) int size, @ForAll @IntRange(min = 0, max = 4) int dt,
                                                @ForAll @IntRange(min = 0, max = 1) int rank3, @ForAll @IntRange(min = 0, max = 2) int dimRaw,
                                                @ForAll @IntRange(min = 1, max = 4) int a, @ForAll @IntRange(min = 1, max = 4) int b,
                                                @ForAll @IntRange(min = 1, max = 3) int c, @ForAll long seed) {
        DType dtype = DTYPES[dt];
        long[] shape = rank3 == 1 ? new long[] {a, b, c} : new long[] {a, b};
        int dim = dimRaw % shape.length;
        List<double[]> results = LocalGroup.run(size, g -> {
            try (Tensor t = input(dtype, seed, g.rank(), shape); Tensor out = g.allGather(ExecutionContext.defaultFor(t.device()), t, dim)) {
                return values(out);
            }
        });
        long[] outShape = shape.clone();
        outShape[dim] *= size;
        for (int r = 0; r < size; r++) {
            double[] got = results.get(r);
            for (long f = 0; f < got.length; f++) {
                long[] idx = index(f, outShape);
                int src = (int) (idx[dim] / shape[dim]);
                idx[dim] %= shape[dim];
                assertEquals(element(dtype, seed, src, flat(idx, shape)), got[(int) f], "rank " + r + " element " + f);
            }
        }
    }

    @Property(tries = 40)
    void reduceScatterGivesEachRankItsSlabOfTheSum(@ForAll @IntRange(min = 1, max = 8) int size, @ForAll @IntRange(min = 0, max = 4) int dt,
                                                   @ForAll @IntRange(min = 0, max = 1) int rank3, @ForAll @IntRange(min = 0, max = 2) int dimRaw,
                                                   @ForAll @IntRange(min = 1, max = 3) int a, @ForAll @IntRange(min = 1, max = 3) int b,
                                                   @ForAll @IntRange(min = 1, max = 3) int c, @ForAll long seed) {
        DType dtype = DTYPES[dt];
        long[] shape = shape(size, rank3, a, b, c, dimRaw);
        int dim = dimRaw % shape.length;
        List<double[]> results = LocalGroup.run(size, g -> {
            try (Tensor t = input(dtype, seed, g.rank(), shape); Tensor out = g.reduceScatter(ExecutionContext.defaultFor(t.device()), t, dim, ReduceOp.SUM)) {
                return values(out);
            }
        });
        long len = shape[dim] / size;
        long[] outShape = shape.clone();
        outShape[dim] = len;
        for (int r = 0; r < size; r++) {
            double[] got = results.get(r);
            for (long f = 0; f < got.length; f++) {
                long[] idx = index(f, outShape);
                idx[dim] += r * len;
                double e = 0;
                for (int src = 0; src < size; src++) {
                    e += element(dtype, seed, src, flat(idx, shape));
                }
                assertEquals(rounded(dtype, e), got[(int) f], "rank " + r + " element " + f);
            }
        }
    }

    @Property(tries = 40)
    void allToAllExchangesSlabs(@ForAll @IntRange(min = 1, max = 8) int size, @ForAll @IntRange(min = 0, max = 4) int dt,
                                @ForAll @IntRange(min = 0, max = 1) int splitRaw, @ForAll @IntRange(min = 0, max = 1) int concatRaw,
                                @ForAll @IntRange(min = 1, max = 3) int a, @ForAll @IntRange(min = 1, max = 4) int b, @ForAll long seed) {
        DType dtype = DTYPES[dt];
        long[] shape = {a, b};
        shape[splitRaw] *= size;
        int split = splitRaw;
        int concat = concatRaw;
        List<double[]> results = LocalGroup.run(size, g -> {
            try (Tensor t = input(dtype, seed, g.rank(), shape); Tensor out = g.allToAll(ExecutionContext.defaultFor(t.device()), t, split, concat)) {
                return values(out);
            }
        });
        long len = shape[split] / size;
        long[] slab = shape.clone();
        slab[split] = len;
        long[] outShape = slab.clone();
        outShape[concat] *= size;
        for (int r = 0; r < size; r++) {
            double[] got = results.get(r);
            for (long f = 0; f < got.length; f++) {
                long[] idx = index(f, outShape);
                int src = (int) (idx[concat] / slab[concat]);
                idx[concat] %= slab[concat];
                idx[split] += r * len;
                assertEquals(element(dtype, seed, src, flat(idx, shape)), got[(int) f], "rank " + r + " element " + f);
            }
        }
    }

    @Property(tries = 30)
    void broadcastAndScatterFromTheRoot(@ForAll @IntRange(min = 1, max = 8) int size, @ForAll @IntRange(min = 0, max = 7) int rootRaw,
                                        @ForAll @IntRange(min = 0, max = 1) int dim, @ForAll @IntRange(min = 0, max = 4) int dt,
                                        @ForAll @IntRange(min = 1, max = 4) int a, @ForAll @IntRange(min = 1, max = 4) int b,
                                        @ForAll long seed) {
        DType dtype = DTYPES[dt];
        int root = rootRaw % size;
        long[] shape = {a, b};
        long[] full = shape.clone();
        full[dim] *= size;
        List<double[][]> results = LocalGroup.run(size, g -> {
            try (Tensor t = input(dtype, seed, g.rank(), shape);
                 Tensor whole = g.rank() == root ? input(dtype, seed, 99, full) : null) {
                g.broadcast(ExecutionContext.defaultFor(t.device()), t, root);
                try (Tensor mine = g.scatterFromRank(ExecutionContext.cpu(), whole, root, dim)) {
                    return new double[][] {values(t), values(mine)};
                }
            }
        });
        for (int r = 0; r < size; r++) {
            for (int i = 0; i < a * b; i++) {
                assertEquals(element(dtype, seed, root, i), results.get(r)[0][i], "broadcast on rank " + r);
                long[] idx = index(i, shape);
                idx[dim] += (long) r * shape[dim];
                assertEquals(element(dtype, seed, 99, flat(idx, full)), results.get(r)[1][i], "scatter on rank " + r);
            }
        }
    }

    @Property(tries = 20)
    void sendAndRecvHandOnAlongAPipeline(@ForAll @IntRange(min = 2, max = 8) int size, @ForAll long seed) {
        List<double[]> results = LocalGroup.run(size, g -> {
            try (Tensor t = input(DType.BF16, seed, 0, new long[] {3, 5})) {
                if (g.rank() > 0) {
                    g.recv(ExecutionContext.defaultFor(t.device()), t, g.rank() - 1);
                    for (int i = 0; i < t.numel(); i++) {
                        DType.BF16.setFloat(t.hostSegment(), i, DType.BF16.getFloat(t.hostSegment(), i) + 1);
                    }
                }
                if (g.rank() < g.size() - 1) {
                    g.send(ExecutionContext.defaultFor(t.device()), t, g.rank() + 1);
                }
                return values(t);
            }
        });
        double[] last = results.get(size - 1);
        for (int i = 0; i < last.length; i++) {
            assertEquals(element(DType.BF16, seed, 0, i) + (size - 1), last[i], 0.0);
        }
    }

    @Property(tries = 10)
    void resultsAreBitwiseReproducible(@ForAll @IntRange(min = 2, max = 8) int size, @ForAll long seed) {
        float[] one = run(size, seed);
        float[] two = run(size, seed);
        assertArrayEquals(one, two);
    }

    private static float[] run(int size, long seed) {
        return LocalGroup.run(size, g -> {
            SplittableRandom r = new SplittableRandom(seed + g.rank());
            float[] v = new float[257];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) r.nextGaussian();
            }
            try (Tensor t = Tensor.ofFloats(DType.F32, v, v.length)) {
                g.allReduce(ExecutionContext.defaultFor(t.device()), t, ReduceOp.SUM);
                return t.toFloatArray();
            }
        }).get(0);
    }
}
