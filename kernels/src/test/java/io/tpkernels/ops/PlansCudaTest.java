package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.DeviceBuffer;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.ModuleCache;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.RandomData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Plans decide once: a {@link Linear.Plan} or {@link LoraLinear.Plan} looks its kernels up when it is built, so its
 * forwards, decode-sized and larger, look nothing up, and give bit for bit what the unplanned op gives. An input whose
 * pointer the plan did not expect (not 16-byte aligned) is routed at the call, and is still right.
 */
@GpuTest
class PlansCudaTest {

    private static final Device GPU = Device.cuda(0);

    @ParameterizedTest(name = "{0} K={1} N={2} bias={3}")
    @CsvSource({"BF16, 256, 300, true", "F16, 128, 200, false", "F32, 96, 70, true"})
    void aLinearPlanLooksNothingUpAndMatchesTheOp(DType dtype, int k, int n, boolean withBias) {
        try (ExecutionContext ctx = ExecutionContext.create(GPU);
             Tensor w = random(dtype, 1, n, k);
             Tensor bias = withBias ? random(dtype, 2, n) : null) {
            Linear.Plan plan = Linear.plan(ctx, w, bias);
            for (int t : new int[] {1, 16, 40}) {
                try (Tensor x = random(dtype, 10 + t, t, k)) {
                    float[] planned = lookingNothingUp(ctx, () -> plan.forward(x));
                    float[] op;
                    try (Tensor y = Linear.forward(ctx, x, w, bias)) {
                        op = y.toFloatArray();
                    }
                    assertArrayEquals(op, planned, dtype + " T=" + t);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} K={1} N={2} R={3} DoRA={4} bias={5}")
    @CsvSource({"BF16, 256, 260, 16, true, true", "F16, 192, 384, 32, false, false", "BF16, 128, 200, 8, false, true",
            "F32, 96, 100, 8, true, false"})
    void aLoraPlanLooksNothingUpAndMatchesTheOp(DType dtype, int k, int n, int r, boolean dora, boolean withBias) {
        try (ExecutionContext ctx = ExecutionContext.create(GPU);
             Tensor w = random(dtype, 1, n, k);
             Tensor a = random(dtype, 3, r, k);
             Tensor b = random(dtype, 4, n, r);
             Tensor g = dora ? random(DType.F32, 5, n) : null;
             Tensor bias = withBias ? random(dtype, 2, n) : null) {
            LoraLinear.Plan plan = LoraLinear.plan(ctx, w, a, b, 0.75f, g, bias);
            for (int t : new int[] {1, 16, 40}) {
                try (Tensor x = random(dtype, 10 + t, t, k)) {
                    float[] planned = lookingNothingUp(ctx, () -> plan.forward(x));
                    float[] op;
                    try (Tensor y = LoraLinear.forwardColumnScaled(ctx, x, w, a, b, 0.75f, g, bias)) {
                        op = y.toFloatArray();
                    }
                    assertArrayEquals(op, planned, dtype + " T=" + t);
                }
            }
        }
    }

    @ParameterizedTest(name = "T={0}")
    @CsvSource({"1", "40"})
    void anInputThePlanDidNotExpectIsRoutedAtTheCall(int t) {
        DType dtype = DType.BF16;
        int k = 128;
        try (ExecutionContext ctx = ExecutionContext.create(GPU);
             Tensor w = random(dtype, 1, 200, k);
             Tensor a = random(dtype, 3, 16, k);
             Tensor b = random(dtype, 4, 200, 16);
             Tensor aligned = random(dtype, 7, t, k);
             DeviceBuffer buffer = ctx.cudaDevice().allocate(aligned.byteSize() + 2)) {
            // The same values one element (2 bytes) past an aligned address.
            try (Tensor x = Tensor.view(buffer, 2, dtype, t, k)) {
                x.copyFrom(aligned);
                assertTrue(x.devicePointer() % 16 != 0);
                float[] planned;
                try (Tensor y = LoraLinear.plan(ctx, w, a, b, 1.5f, null, null).forward(x)) {
                    planned = y.toFloatArray();
                }
                try (Tensor y = LoraLinear.forward(ctx, aligned, w, a, b, 1.5f, null)) {
                    float[] expected = y.toFloatArray();
                    for (int i = 0; i < expected.length; i++) {
                        assertEquals(expected[i], planned[i], 2e-2f * Math.max(1f, Math.abs(expected[i])),
                                "element " + i);
                    }
                }
            }
        }
    }

    /** The forward's result, asserting that it looked no kernel up. */
    private static float[] lookingNothingUp(ExecutionContext ctx, java.util.function.Supplier<Tensor> forward) {
        ModuleCache modules = ctx.cudaDevice().modules();
        long before = modules.kernelLookups();
        try (Tensor y = forward.get()) {
            assertEquals(before, modules.kernelLookups(), "kernel lookups during a planned forward");
            return y.toFloatArray();
        }
    }

    private static Tensor random(DType dtype, long seed, long... shape) {
        return RandomData.moderateOn(GPU, dtype, seed, shape);
    }
}
