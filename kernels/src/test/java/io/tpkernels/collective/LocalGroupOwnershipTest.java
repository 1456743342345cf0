package io.tpkernels.collective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A rank's group belongs to one thread at a time, a group's timeout is positive, and an all-reduce that each rank
 * reduces one slab of gives the bits of one rank-order reduction of the whole, for any length against any tp.
 */
class LocalGroupOwnershipTest {

    @Test
    void aSecondThreadInOneRanksGroupIsRefusedNamingBothAndTheCollectiveStillCompletes() {
        AtomicReference<Throwable> intruder = new AtomicReference<>();
        List<float[]> sums = LocalGroup.run(2, Duration.ofSeconds(20), g -> {
            try (Tensor t = Tensor.ofFloats(DType.F32, new float[] {g.rank() + 1, 10}, 2)) {
                if (g.rank() == 1) {
                    Thread.sleep(400); // rank 0's own thread is inside the all-reduce meanwhile
                } else {
                    Thread second = Thread.ofPlatform().name("second-caller").start(() -> {
                        try {
                            Thread.sleep(150);
                            try (Tensor u = Tensor.allocate(Device.CPU, DType.F32, 2)) {
                                g.allReduce(ExecutionContext.defaultFor(u.device()), u, ReduceOp.SUM);
                            }
                        } catch (Throwable e) {
                            intruder.set(e);
                        }
                    });
                    g.allReduce(ExecutionContext.defaultFor(t.device()), t, ReduceOp.SUM);
                    second.join();
                    return t.toFloatArray();
                }
                g.allReduce(ExecutionContext.defaultFor(t.device()), t, ReduceOp.SUM);
                return t.toFloatArray();
            }
        });
        assertArrayEquals(new float[] {3, 20}, sums.get(0));
        assertArrayEquals(new float[] {3, 20}, sums.get(1));
        Throwable e = intruder.get();
        assertTrue(e instanceof IllegalStateException, "the second caller is refused: " + e);
        assertTrue(e.getMessage().contains("second-caller") && e.getMessage().contains("tpk-rank-0"),
                "names both threads: " + e.getMessage());
    }

    @Test
    void aTimeoutOfZeroOrLessIsRefused() {
        for (Duration bad : new Duration[] {Duration.ZERO, Duration.ofSeconds(-1)}) {
            var e = assertThrows(IllegalArgumentException.class, () -> LocalGroup.run(2, bad, g -> null));
            assertTrue(e.getMessage().contains("timeout must be positive"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> LocalGroup.runMesh(2, 2, bad, m -> null));
        }
    }

    @ParameterizedTest(name = "{0} elements on {1} ranks")
    @CsvSource({"0, 3", "1, 3", "2, 5", "7, 3", "8, 8", "1000, 7", "100003, 4"})
    void eachRanksSlabAddsUpToOneRankOrderReduction(int n, int tp) {
        float[][] inputs = new float[tp][n];
        for (int r = 0; r < tp; r++) {
            for (int i = 0; i < n; i++) {
                inputs[r][i] = (float) Math.scalb(Math.sin(31.0 * i + r), (i + r) % 40 - 20); // sums where order matters
            }
        }
        float[] expected = new float[n];
        for (int i = 0; i < n; i++) {
            float acc = inputs[0][i];
            for (int r = 1; r < tp; r++) {
                acc += inputs[r][i];
            }
            expected[i] = acc;
        }
        List<float[]> got = LocalGroup.run(tp, Duration.ofSeconds(30), g -> {
            try (Tensor t = Tensor.ofFloats(DType.F32, inputs[g.rank()], n)) {
                g.allReduce(ExecutionContext.defaultFor(t.device()), t, ReduceOp.SUM);
                return t.toFloatArray();
            }
        });
        for (int r = 0; r < tp; r++) {
            assertEquals(n, got.get(r).length);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(got.get(r)[i]),
                        "rank " + r + ", element " + i);
            }
        }
    }
}
