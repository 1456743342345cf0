package io.tpkernels.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.RandomData;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Gradient clipping on GPUs against the CPU path over an in-process group of two ranks, with replicated and sharded
 * parameters (one large enough for several blocks and the fixed grid's stride): the same norm to the last bits of a
 * double sum, the same clipped gradients to f32 rounding, replicated gradients bit-identical on both ranks; a factor
 * of 1 leaves the gradients untouched; a NaN gradient makes the norm and every gradient NaN.
 */
@GpuTest
class GradClippingCudaTest {
    private static final int TP = 2;
    private static final Device GPU = Device.cuda(0);
    /** Each parameter: name, placement, rows (whole, split by rows when sharded), columns. */
    private static final Object[][] SHAPES = {
        {"a0", Placement.REPLICATED, 3, 5},
        {"b0", Placement.SHARDED, 8, 5},
        {"a1", Placement.REPLICATED, 700, 400}, // 280 000 elements: more blocks than the square-sum's grid
        {"b1", Placement.SHARDED, 6, 33},
    };

    private record Rank(double norm, List<float[]> grads) {
    }

    /** The full gradient of parameter {@code i}; {@code poison} puts a NaN into parameter 1. */
    private static float[] fullGrad(int i, boolean poison) {
        int rows = (int) SHAPES[i][2];
        int cols = (int) SHAPES[i][3];
        float[] g = RandomData.moderate(100 + i, rows * cols);
        if (poison && i == 1) {
            g[7] = Float.NaN;
        }
        return g;
    }

    private static List<Rank> run(Device device, double maxNorm, boolean poison) {
        return LocalGroup.run(TP, group -> {
            List<Parameter> params = new ArrayList<>();
            try (ExecutionContext ctx = device.isCuda() ? ExecutionContext.create(device) : ExecutionContext.cpu()) {
                for (int i = 0; i < SHAPES.length; i++) {
                    Placement placement = (Placement) SHAPES[i][1];
                    int rows = (int) SHAPES[i][2];
                    int cols = (int) SHAPES[i][3];
                    float[] g = fullGrad(i, poison);
                    if (placement == Placement.SHARDED) {
                        rows /= TP;
                        g = Arrays.copyOfRange(g, group.rank() * rows * cols, (group.rank() + 1) * rows * cols);
                    }
                    try (Tensor gh = Tensor.ofFloats(DType.F32, g, rows, cols)) {
                        params.add(new Parameter((String) SHAPES[i][0], Tensor.zeros(device, DType.F32, rows, cols),
                                gh.copyTo(device), placement));
                    }
                }
                double norm = GradClipping.clip(ctx, group, params, maxNorm);
                ctx.synchronize();
                List<float[]> grads = new ArrayList<>();
                for (Parameter p : params) {
                    grads.add(p.grad().toFloatArray());
                }
                return new Rank(norm, grads);
            } finally {
                for (Parameter p : params) {
                    p.value().close();
                    p.grad().close();
                }
            }
        });
    }

    @ParameterizedTest(name = "max norm {0}")
    @CsvSource({"1.0", "1e9"})
    void matchesTheCpuAndKeepsReplicatedGradientsIdentical(double maxNorm) {
        List<Rank> cpu = run(Device.CPU, maxNorm, false);
        List<Rank> gpu = run(GPU, maxNorm, false);
        for (int r = 0; r < TP; r++) {
            assertEquals(cpu.get(r).norm(), gpu.get(r).norm(), 1e-12 * cpu.get(r).norm(), "norm on rank " + r);
            assertTrue(gpu.get(r).norm() > 1, "the norm is " + gpu.get(r).norm() + ": max norm 1 must clip");
            for (int i = 0; i < SHAPES.length; i++) {
                float[] want = cpu.get(r).grads().get(i);
                float[] got = gpu.get(r).grads().get(i);
                for (int e = 0; e < want.length; e++) {
                    assertEquals(want[e], got[e], 1e-6 * Math.abs(want[e]), SHAPES[i][0] + "[" + e + "] on rank " + r);
                }
            }
        }
        assertEquals(gpu.get(0).norm(), gpu.get(1).norm(), 0, "the norm is the same on every rank");
        for (int i = 0; i < SHAPES.length; i++) {
            if (SHAPES[i][1] == Placement.REPLICATED) {
                assertArrayEquals(gpu.get(0).grads().get(i), gpu.get(1).grads().get(i), SHAPES[i][0] + " is replicated");
            }
        }
        if (maxNorm > 1e6) {
            for (int r = 0; r < TP; r++) {
                assertArrayEquals(fullGrad(0, false), gpu.get(r).grads().get(0), "a factor of 1 changes nothing");
            }
        }
    }

    @Test
    void aNanGradientShowsInTheNormAndEveryGradient() {
        for (Rank rank : run(GPU, 1.0, true)) {
            assertTrue(Double.isNaN(rank.norm()), "norm " + rank.norm());
            for (float[] g : rank.grads()) {
                for (float v : g) {
                    assertTrue(Float.isNaN(v), "a gradient element " + v);
                }
            }
        }
    }
}
