package io.tpkernels.collective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tpkernels.ffm.nccl.Nccl;
import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.GpuTest;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** NCCL through the real library on a one-GPU host: world size 1, every collective the identity. */
@GpuTest
class NcclGroupTest {

    @Test
    void worldOfOneThroughTheRealLibrary() {
        assumeTrue(NcclGroup.isAvailable(), () -> "NCCL not found: " + Nccl.library().reason().orElse(""));
        assertTrue(Nccl.version() >= 21800, "NCCL " + Nccl.version());
        CudaDevice device = CudaDevice.of(0);
        try (NcclGroup g = NcclGroup.initRank(device, 0, 1, Nccl.uniqueId(), Duration.ofSeconds(30));
             Tensor host = Tensor.ofFloats(DType.BF16, new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
             Tensor t = host.copyTo(device.device())) {
            g.allReduce(ExecutionContext.defaultFor(t.device()), t, ReduceOp.SUM);
            g.broadcast(ExecutionContext.defaultFor(t.device()), t, 0);
            try (Tensor gathered = g.allGather(ExecutionContext.defaultFor(t.device()), t, 1);
                 Tensor scattered = g.reduceScatter(ExecutionContext.defaultFor(t.device()), t, 0, ReduceOp.MAX);
                 Tensor exchanged = g.allToAll(ExecutionContext.defaultFor(t.device()), t, 0, 1);
                 Tensor slab = g.scatterFromRank(ExecutionContext.defaultFor(t.device()), t, 0, 1)) {
                for (Tensor r : List.of(t, gathered, scattered, exchanged, slab)) {
                    assertArrayEquals(host.toFloatArray(), r.toFloatArray());
                }
            }
            g.barrier();
        }
        try (var groups = AutoCloseables.of(NcclGroup.initAll(List.of(device), Duration.ofSeconds(30)))) {
            // Each group of initAll is driven from its own thread, as NCCL requires (runEach starts them).
            List<float[]> out = NcclGroup.runEach(groups.items(), g -> {
                try (Tensor t = Tensor.ofFloats(DType.F32, new float[] {7}, 1).copyTo(Device.cuda(0))) {
                    g.allReduce(ExecutionContext.defaultFor(t.device()), t, ReduceOp.SUM);
                    return t.toFloatArray();
                }
            });
            assertArrayEquals(new float[] {7}, out.get(0));
        }
    }

    /** Closes a list of groups. */
    record AutoCloseables(List<NcclGroup> items) implements AutoCloseable {
        static AutoCloseables of(List<NcclGroup> items) {
            return new AutoCloseables(items);
        }

        @Override
        public void close() {
            items.forEach(NcclGroup::close);
        }
    }
}
