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
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** A tp × pp mesh: all-reduce inside a stage, send/recv along the pipeline, one failure ends every group. */
class LocalGroupMeshTest {

    @Test
    void stagesReduceAmongThemselvesAndHandOnAlongThePipeline() {
        int tp = 3;
        int pp = 4;
        List<float[]> results = LocalGroup.runMesh(tp, pp, Duration.ofSeconds(30), mesh -> {
            assertEquals(tp, mesh.tensorParallel().size());
            assertEquals(pp, mesh.pipeline().size());
            try (Tensor t = Tensor.ofFloats(DType.F32, new float[] {mesh.stage() * 100 + mesh.tpRank()}, 1);
                 Tensor carried = Tensor.zeros(Device.CPU, DType.F32, 1)) {
                mesh.tensorParallel().allReduce(ExecutionContext.defaultFor(t.device()), t, ReduceOp.SUM); // stage·100·tp + (0 + 1 + 2)
                if (mesh.stage() > 0) {
                    mesh.pipeline().recv(ExecutionContext.defaultFor(carried.device()), carried, mesh.stage() - 1);
                }
                Elementwise.add(carried, t);
                if (mesh.stage() < pp - 1) {
                    mesh.pipeline().send(ExecutionContext.defaultFor(carried.device()), carried, mesh.stage() + 1);
                }
                return carried.toFloatArray();
            }
        });
        for (int w = 0; w < tp * pp; w++) {
            int stage = w / tp;
            float expected = 0;
            for (int s = 0; s <= stage; s++) {
                expected += s * 100 * tp + 3;
            }
            assertArrayEquals(new float[] {expected}, results.get(w), "world rank " + w);
        }
    }

    @Test
    void aFailureOnOneStageEndsTheRanksWaitingInOtherGroups() {
        ConcurrentHashMap<Integer, String> seen = new ConcurrentHashMap<>();
        long start = System.nanoTime();
        var e = assertThrows(IllegalStateException.class, () -> LocalGroup.runMesh(2, 3, Duration.ofSeconds(30), mesh -> {
            if (mesh.stage() == 2 && mesh.tpRank() == 1) {
                throw new IllegalStateException("the last stage broke on purpose");
            }
            try (Tensor t = Tensor.allocate(Device.CPU, DType.F32, 4)) {
                if (mesh.stage() < 2) {
                    mesh.pipeline().recv(ExecutionContext.defaultFor(t.device()), t, mesh.stage() + 1); // nobody sends: only the abort can end this
                } else {
                    mesh.tensorParallel().barrier(); // its partner has thrown
                }
            } catch (CollectiveException c) {
                seen.put(mesh.stage() * 2 + mesh.tpRank(), c.getMessage());
                throw c;
            }
            return null;
        }));
        assertEquals("the last stage broke on purpose", e.getMessage());
        assertEquals(5, seen.size(), "every other rank got an exception: " + seen);
        seen.values().forEach(m -> assertTrue(m.contains("rank 5 (stage 2, tp rank 1) failed"), m));
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 10, "nobody waited for the 30 s timeout");
    }

    /** Element-wise add for this test only (the collective package has no ops dependency in its tests). */
    private static final class Elementwise {
        static void add(Tensor acc, Tensor t) {
            float[] a = acc.toFloatArray();
            float[] b = t.toFloatArray();
            for (int i = 0; i < a.length; i++) {
                DType.F32.setFloat(acc.hostSegment(), i, a[i] + b[i]);
            }
        }
    }
}
