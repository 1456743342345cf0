package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.GemmReference;
import io.tpkernels.testing.RandomData;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.FloatRange;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The CPU fused LoRA linear against a naive double reference, with and without DoRA's column scale; B = 0 gives the
 * base product exactly, and no column scale (or one of all ones) the plain LoRA result exactly.
 */
class LoraLinearCpuTest {

    private static final DType[] DTYPES = {DType.F32, DType.F16, DType.BF16};

    /**
     * The reference: xa = round_dtype(s·x·Aᵀ) (as {@link LoraLinear}'s javadoc says; docs/contract.md is silent on the
     * intermediate's dtype), then c ⊙ (x·Wᵀ + xa·Bᵀ) + bias in double, c the column scale or ones ({@code null}).
     */
    static double[][][] reference(DType dtype, float[] x, float[] w, float[] a, float[] b, float s, float[] columnScale,
                                  float[] bias, int t, int k, int n, int r) {
        double[][] xa = GemmReference.multiplyNT(x, a, t, r, k)[0];
        float[] xaRounded = new float[t * r];
        for (int i = 0; i < t; i++) {
            for (int q = 0; q < r; q++) {
                float v = (float) (s * xa[i][q]);
                xaRounded[i * r + q] = switch (dtype) {
                    case F32 -> v;
                    case F16 -> DType.f16BitsToFloat(DType.floatToF16Bits(v));
                    default -> DType.bf16BitsToFloat(DType.floatToBf16Bits(v));
                };
            }
        }
        double[][][] base = GemmReference.multiplyNT(x, w, t, n, k);
        double[][][] lora = GemmReference.multiplyNT(xaRounded, b, t, n, r);
        // The implementation rounds its own f32 value of s·x·Aᵀ to the dtype; when that value sits at a rounding
        // boundary it may land one dtype ulp away from the reference's, so allow one ulp of xa times |B|.
        double[][] extra = new double[t][n];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < n; j++) {
                double c = columnScale == null ? 1 : columnScale[j];
                base[0][i][j] = c * (base[0][i][j] + lora[0][i][j]) + (bias == null ? 0 : bias[j]);
                base[1][i][j] = Math.abs(c) * (base[1][i][j] + lora[1][i][j]) + (bias == null ? 0 : Math.abs(bias[j]));
                for (int q = 0; q < r; q++) {
                    extra[i][j] += Math.abs(c * b[j * r + q]) * ulp(dtype, xaRounded[i * r + q]);
                }
            }
        }
        return new double[][][] {base[0], base[1], extra};
    }

    /** One unit in the last place of {@code v} in {@code dtype}. */
    static double ulp(DType dtype, float v) {
        int mantissaBits = switch (dtype) {
            case F16 -> 10;
            case BF16 -> 7;
            default -> 23;
        };
        double a = Math.max(Math.abs(v), dtype == DType.F16 ? 6.1e-5 : Float.MIN_NORMAL);
        return Math.scalb(1.0, Math.getExponent(a) - mantissaBits);
    }

    /**
     * A LoRA forward under test: writes {@code y = c ⊙ (x·wᵀ + s·(x·aᵀ)·bᵀ) (+ bias)} ({@code columnScale} c may be
     * {@code null}) and returns when it is written.
     */
    interface Forward {
        void run(Tensor x, Tensor w, Tensor a, Tensor b, float s, Tensor columnScale, Tensor bias, Tensor y);
    }

    static void check(Device device, DType dtype, int t, int k, int n, int r, float s, boolean withBias, long seed) {
        check(ExecutionContext.defaultFor(device), dtype, t, k, n, r, s, withBias, seed);
    }

    /** As above, on {@code ctx} (its device, its tuning). */
    static void check(ExecutionContext ctx, DType dtype, int t, int k, int n, int r, float s, boolean withBias,
                      long seed) {
        check(ctx.device(), dtype, t, k, n, r, s, withBias, false, seed, on(ctx));
    }

    /** {@link LoraLinear}'s forward queued on {@code ctx}, waited for. */
    static Forward on(ExecutionContext ctx) {
        return (x, w, a, b, s, c, bias, y) -> {
            LoraLinear.forward(ctx, x, w, a, b, s, c, bias, y);
            ctx.synchronize();
        };
    }

    /** {@link LoraLinear}'s forward on the default context of the tensors' device. */
    static final Forward FORWARD = (x, w, a, b, s, c, bias, y) -> on(ExecutionContext.defaultFor(x.device()))
            .run(x, w, a, b, s, c, bias, y);

    static void check(Device device, DType dtype, int t, int k, int n, int r, float s, boolean withBias, long seed,
                      Forward forward) {
        check(device, dtype, t, k, n, r, s, withBias, false, seed, forward);
    }

    /**
     * {@code forward} on random data of this shape ({@code y} F32, poisoned first), with a random column scale if
     * {@code withScale}, against the double reference.
     */
    static void check(Device device, DType dtype, int t, int k, int n, int r, float s, boolean withBias,
                      boolean withScale, long seed, Forward forward) {
        try (Tensor xh = Tensor.ofFloats(dtype, RandomData.moderate(seed, t * k), t, k);
             Tensor wh = Tensor.ofFloats(dtype, RandomData.moderate(seed + 1, n * k), n, k);
             Tensor ah = Tensor.ofFloats(dtype, RandomData.moderate(seed + 2, r * k), r, k);
             Tensor bh = Tensor.ofFloats(dtype, RandomData.moderate(seed + 3, n * r), n, r);
             Tensor biasH = Tensor.ofFloats(dtype, RandomData.moderate(seed + 4, n), n);
             Tensor scaleH = Tensor.ofFloats(DType.F32, RandomData.columnScale(seed + 5, n), n);
             Tensor x = xh.copyTo(device); Tensor w = wh.copyTo(device); Tensor a = ah.copyTo(device);
             Tensor b = bh.copyTo(device); Tensor bias = biasH.copyTo(device); Tensor scale = scaleH.copyTo(device);
             Tensor y = Tensor.allocate(device, DType.F32, t, n)) {
            y.fillBytes((byte) 0xFF);
            forward.run(x, w, a, b, s, withScale ? scale : null, withBias ? bias : null, y);
            double[][][] ref = reference(dtype, xh.toFloatArray(), wh.toFloatArray(), ah.toFloatArray(), bh.toFloatArray(),
                    s, withScale ? scaleH.toFloatArray() : null, withBias ? biasH.toFloatArray() : null, t, k, n, r);
            GemmReference.assertClose(ref, y.toFloatArray(), n, false, dtype + " T=" + t + " K=" + k + " N=" + n + " R=" + r
                    + (withScale ? " column-scaled" : "") + (withBias ? " biased" : ""));
        }
    }

    /**
     * On {@code device}: no column scale gives bit for bit what the forward without the parameter gives, and so does a
     * scale of all ones (the scaled epilogue with nothing to scale: every way's fused step has alpha 1).
     */
    static void assertNoScaleIsOnesIsThePlainForward(Device device, DType dtype, int t, int k, int n, int r,
                                                     boolean withBias) {
        assertNoScaleIsOnesIsThePlainForward(ExecutionContext.defaultFor(device), dtype, t, k, n, r, withBias);
    }

    /** As above, on {@code ctx} (its device, its tuning). */
    static void assertNoScaleIsOnesIsThePlainForward(ExecutionContext ctx, DType dtype, int t, int k, int n, int r,
                                                     boolean withBias) {
        Device device = ctx.device();
        float[] ones = new float[n];
        java.util.Arrays.fill(ones, 1f);
        try (Tensor x = Tensor.ofFloats(dtype, RandomData.moderate(1, t * k), t, k).copyTo(device);
             Tensor w = Tensor.ofFloats(dtype, RandomData.moderate(2, n * k), n, k).copyTo(device);
             Tensor a = Tensor.ofFloats(dtype, RandomData.moderate(3, r * k), r, k).copyTo(device);
             Tensor b = Tensor.ofFloats(dtype, RandomData.moderate(4, n * r), n, r).copyTo(device);
             Tensor bias = Tensor.ofFloats(dtype, RandomData.moderate(5, n), n).copyTo(device);
             Tensor one = Tensor.ofFloats(DType.F32, ones, n).copyTo(device);
             Tensor plain = Tensor.allocate(device, DType.F32, t, n);
             Tensor none = Tensor.allocate(device, DType.F32, t, n);
             Tensor unit = Tensor.allocate(device, DType.F32, t, n)) {
            Tensor b0 = withBias ? bias : null;
            LoraLinear.forward(ctx, x, w, a, b, 1.5f, b0, plain);
            LoraLinear.forward(ctx, x, w, a, b, 1.5f, null, b0, none);
            LoraLinear.forward(ctx, x, w, a, b, 1.5f, one, b0, unit);
            float[] expected = plain.toFloatArray();
            float[] got = none.toFloatArray();
            float[] gotOnes = unit.toFloatArray();
            String what = dtype + " T=" + t + " K=" + k + " N=" + n + " R=" + r + (withBias ? " biased" : "");
            for (int i = 0; i < expected.length; i++) {
                assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(got[i]), what + ", null, element " + i);
                assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(gotOnes[i]), what + ", ones, element " + i);
            }
        }
    }

    @Property(tries = 50)
    void matchesTheDoubleReference(@ForAll @IntRange(min = 1, max = 40) int t, @ForAll @IntRange(min = 1, max = 300) int k,
                                   @ForAll @IntRange(min = 1, max = 90) int n, @ForAll @IntRange(min = 1, max = 40) int r,
                                   @ForAll @FloatRange(min = -4, max = 4) float s, @ForAll boolean bias,
                                   @ForAll @IntRange(min = 0, max = 2) int dtype, @ForAll long seed) {
        check(Device.CPU, DTYPES[dtype], t, k, n, r, s, bias, seed);
    }

    @Property(tries = 40)
    void withAColumnScaleMatchesTheDoubleReference(@ForAll @IntRange(min = 1, max = 40) int t,
                                                   @ForAll @IntRange(min = 1, max = 300) int k,
                                                   @ForAll @IntRange(min = 1, max = 200) int n,
                                                   @ForAll @IntRange(min = 1, max = 40) int r,
                                                   @ForAll @FloatRange(min = -4, max = 4) float s, @ForAll boolean bias,
                                                   @ForAll @IntRange(min = 0, max = 2) int dtype, @ForAll long seed) {
        check(Device.CPU, DTYPES[dtype], t, k, n, r, s, bias, true, seed, FORWARD);
    }

    @Test
    void withAColumnScaleEveryDtypeWithAndWithoutBias() {
        for (DType dtype : DTYPES) {
            check(Device.CPU, dtype, 37, 700, 300, 16, 2f, true, true, 7, FORWARD);   // several tiles
            check(Device.CPU, dtype, 5, 130, 70, 3, -0.5f, false, true, 8, FORWARD);
        }
    }

    @Test
    void withoutAColumnScaleTheResultIsThePlainForwardBitForBit() {
        for (DType dtype : DTYPES) {
            assertNoScaleIsOnesIsThePlainForward(Device.CPU, dtype, 37, 600, 300, 16, true);
            assertNoScaleIsOnesIsThePlainForward(Device.CPU, dtype, 5, 64, 70, 3, false);
        }
    }

    /** The allocating form: y in x's dtype, rounded once from the f32 epilogue. */
    @Test
    void theColumnScaledFormReturnsYInTheInputDtype() {
        int t = 9, k = 200, n = 150, r = 8;
        for (DType dtype : DTYPES) {
            try (Tensor x = Tensor.ofFloats(dtype, RandomData.moderate(1, t * k), t, k);
                 Tensor w = Tensor.ofFloats(dtype, RandomData.moderate(2, n * k), n, k);
                 Tensor a = Tensor.ofFloats(dtype, RandomData.moderate(3, r * k), r, k);
                 Tensor b = Tensor.ofFloats(dtype, RandomData.moderate(4, n * r), n, r);
                 Tensor bias = Tensor.ofFloats(dtype, RandomData.moderate(5, n), n);
                 Tensor scale = Tensor.ofFloats(DType.F32, RandomData.columnScale(6, n), n);
                 Tensor y = LoraLinear.forwardColumnScaled(ExecutionContext.defaultFor(x.device()), x, w, a, b, 0.75f, scale, bias)) {
                assertEquals(dtype, y.dtype());
                double[][][] ref = reference(dtype, x.toFloatArray(), w.toFloatArray(), a.toFloatArray(),
                        b.toFloatArray(), 0.75f, scale.toFloatArray(), bias.toFloatArray(), t, k, n, r);
                double rounding = switch (dtype) {
                    case BF16 -> 0x1p-8;
                    case F16 -> 0x1p-11;
                    default -> 0;
                };
                GemmReference.assertWithin(ref, y.toFloatArray(), n, GemmReference.F32_TOLERANCE, rounding,
                        dtype + " y");
            }
        }
    }

    @Test
    void aColumnScaleOfTheWrongShapeDtypeOrDeviceIsRefusedByName() {
        try (Tensor x = Tensor.allocate(Device.CPU, DType.BF16, 2, 8);
             Tensor w = Tensor.allocate(Device.CPU, DType.BF16, 4, 8);
             Tensor a = Tensor.allocate(Device.CPU, DType.BF16, 3, 8);
             Tensor b = Tensor.allocate(Device.CPU, DType.BF16, 4, 3);
             Tensor y = Tensor.allocate(Device.CPU, DType.F32, 2, 4);
             Tensor longer = Tensor.allocate(Device.CPU, DType.F32, 5);
             Tensor bf16 = Tensor.allocate(Device.CPU, DType.BF16, 4);
             Tensor matrix = Tensor.allocate(Device.CPU, DType.F32, 1, 4)) {
            for (Tensor wrong : new Tensor[] {longer, bf16, matrix}) {
                var e = assertThrows(IllegalArgumentException.class,
                        () -> LoraLinear.forward(ExecutionContext.defaultFor(x.device()), x, w, a, b, 1f, wrong, null, y));
                assertTrue(e.getMessage().contains("column scale must be [4] F32 on cpu, got " + wrong.describe()),
                        e.getMessage());
                var f = assertThrows(IllegalArgumentException.class,
                        () -> LoraLinear.forwardColumnScaled(ExecutionContext.defaultFor(x.device()), x, w, a, b, 1f, wrong, null));
                assertTrue(f.getMessage().contains("column scale must be [4] F32"), f.getMessage());
            }
        }
    }

    @Test
    void largeRankAndShapes() {
        check(Device.CPU, DType.BF16, 3, 700, 130, 256, 2f, true, 5);
        check(Device.CPU, DType.F32, 65, 64, 64, 1, 0.5f, false, 6);
    }

    /** With B = 0 the fused result is the base product (the LM-head GEMM on the same shape) bit for bit. */
    static void assertBZeroGivesTheBase(Device device, int t, int k, int n) {
        assertBZeroGivesTheBase(device, DType.BF16, t, k, n, 16);
    }

    /** With {@code B = 0} the LoRA forward is the base product ({@link LmHead} without padding) bit for bit. */
    static void assertBZeroGivesTheBase(Device device, DType dtype, int t, int k, int n, int r) {
        try (Tensor x = Tensor.ofFloats(dtype, RandomData.moderate(1, t * k), t, k).copyTo(device);
             Tensor w = Tensor.ofFloats(dtype, RandomData.moderate(2, n * k), n, k).copyTo(device);
             Tensor a = Tensor.ofFloats(dtype, RandomData.moderate(3, r * k), r, k).copyTo(device);
             Tensor b = Tensor.zeros(device, dtype, n, r)) {
            assertLoraIsTheBase(x, w, a, b, dtype + " T=" + t + " R=" + r);
        }
    }

    /** {@code LoraLinear.forward(ExecutionContext.defaultFor(x.device()), x, w, a, b)} (b zero) against {@link LmHead}'s {@code x·wᵀ}, bit for bit. */
    static void assertLoraIsTheBase(Tensor x, Tensor w, Tensor a, Tensor b, String what) {
        try (Tensor y = Tensor.allocate(x.device(), DType.F32, x.dim(0), w.dim(0));
             Tensor base = LmHead.logits(ExecutionContext.defaultFor(x.device()), x, w, w.dim(0))) {
            y.fillBytes((byte) 0xFF);
            LoraLinear.forward(ExecutionContext.defaultFor(x.device()), x, w, a, b, 2f, null, y);
            float[] got = y.toFloatArray();
            float[] expected = base.toFloatArray();
            for (int i = 0; i < got.length; i++) {
                assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(got[i]), what + ", element " + i);
            }
        }
    }

    @Test
    void withBZeroTheResultIsTheBaseProductExactly() {
        assertBZeroGivesTheBase(Device.CPU, 9, 600, 70);
    }

    /** The staging rank of the CUDA path (a pure function: no GPU needed). */
    @Test
    void paddedRanksAreTheNextMultipleOf16Bytes() {
        assertEquals(8, LoraLinear.paddedRank(1, DType.BF16));
        assertEquals(16, LoraLinear.paddedRank(9, DType.F16));
        assertEquals(16, LoraLinear.paddedRank(16, DType.BF16));
        assertEquals(4, LoraLinear.paddedRank(3, DType.F32));
        assertEquals(256, LoraLinear.paddedRank(253, DType.F32));
    }

    @Test
    void scalesFollowPeft() {
        assertEquals(2f, LoraLinear.scale(32, 16, false));
        assertEquals(8f, LoraLinear.scale(32, 16, true));
    }

    @Test
    void shapesAreCheckedNamingBoth() {
        try (Tensor x = Tensor.allocate(Device.CPU, DType.BF16, 2, 8);
             Tensor w = Tensor.allocate(Device.CPU, DType.BF16, 4, 8);
             Tensor a = Tensor.allocate(Device.CPU, DType.BF16, 3, 8);
             Tensor b = Tensor.allocate(Device.CPU, DType.BF16, 4, 3);
             Tensor bWrong = Tensor.allocate(Device.CPU, DType.BF16, 4, 2);
             Tensor aHuge = Tensor.allocate(Device.CPU, DType.BF16, 300, 8);
             Tensor bias = Tensor.allocate(Device.CPU, DType.BF16, 5)) {
            var e = assertThrows(IllegalArgumentException.class, () -> LoraLinear.forward(ExecutionContext.defaultFor(x.device()), x, w, a, bWrong, 1f, null));
            assertTrue(e.getMessage().contains("B must be [4, 3] BF16 on cpu, got [4, 2]"), e.getMessage());
            var r = assertThrows(IllegalArgumentException.class, () -> LoraLinear.forward(ExecutionContext.defaultFor(x.device()), x, w, aHuge, b, 1f, null));
            assertTrue(r.getMessage().contains("rank 300"), r.getMessage());
            var bi = assertThrows(IllegalArgumentException.class, () -> LoraLinear.forward(ExecutionContext.defaultFor(x.device()), x, w, a, b, 1f, bias));
            assertTrue(bi.getMessage().contains("bias must be [4]"), bi.getMessage());
        }
    }
}
