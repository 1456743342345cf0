package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.layers.Precision;
import io.tpkernels.layers.checkpoint.SafetensorsCheckpoint;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.model.LoraAdapters;
import io.tpkernels.layers.model.PipelineStage;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.PipelinePartition;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.testing.GpuTest;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The emulator's counts of one forward of the demo model on CUDA (tp 1, pp 1, 8 tokens, f32), read in the process
 * before and after it (the emulator's {@code tpk_emu_counts}; loading and the first forward, which loads the kernel
 * modules, come before): the launches grow with the layers, the host waits do not. A layer's ops and its collective
 * are queued on the rank's stream; the host waits only where it reads (the ids in, the logits out, the deferred
 * bad-id check), the same number of times however deep the model.
 */
@GpuTest
class ForwardHostWaitsTest {

    @TempDir
    Path tmp;

    private record Counts(long launches, long hostWaits) {
        Counts minus(Counts o) {
            return new Counts(launches - o.launches, hostWaits - o.hostWaits);
        }
    }

    @Test
    void aForwardWaitsOnTheHostAsOftenForTwoLayersAsForEight() throws Exception {
        assumeTrue(CudaDevice.of(0).isEmulator(), "the counts are the CPU emulator's; CUDA device 0 is a GPU");
        assumeFalse("reverse".equals(System.getenv("TPK_EMU_BLOCK_ORDER")), "counted once, with blocks in order");
        for (int pp : new int[] {1, 2}) {
            Counts two = forward(2, pp);
            Counts eight = forward(8, pp);
            System.out.printf("emulator counts of one forward on CUDA, demo model, 8 tokens, pp %d: 2 layers %s, "
                    + "8 layers %s%n", pp, two, eight);
            assertTrue(two.launches() > 0 && two.hostWaits() > 0, two.toString());
            assertEquals(0, (eight.launches() - two.launches()) % 6, "the same launches for each layer: " + two
                    + " then " + eight);
            assertTrue(eight.launches() > two.launches(), two + " then " + eight);
            assertEquals(two.hostWaits(), eight.hostWaits(), "host waits per forward at pp " + pp + ": " + two
                    + " then " + eight);
        }
    }

    /**
     * The counts of the second forward of a demo model of that many layers on {@code pp} stages (threads; the stages
     * hand their activations on with send/recv), all stages' work counted between two barriers.
     */
    private Counts forward(int layers, int pp) throws Exception {
        var sizes = new DemoModelWriter.Sizes(1003, 64, 192, layers, 8, 16, false);
        Path model = Files.createDirectories(tmp.resolve("model-" + layers + "-" + pp));
        DemoModelWriter.writeModel(model, sizes, 2026);
        ModelConfig config = ModelConfig.read(model.resolve("config.json"));
        MethodHandle counts = countsHandle();
        return LocalGroup.runMesh(1, pp, Duration.ofMinutes(2), mesh -> {
            var spec = new PipelineStage.Spec(config, PipelinePartition.balanced(layers, pp,
                    PipelinePartition.Remainder.FIRST), Device.cuda(0), Precision.F32, VocabShard.DEFAULT_MULTIPLE);
            try (WeightSource weights = SafetensorsCheckpoint.open(model);
                 PipelineStage stage = PipelineStage.load(weights, spec, mesh, LoraAdapters.NONE, layer -> { });
                 Tensor ids = Tensor.ofLongs(DType.I64, new long[] {0, 17, 511, 1002, 64, 999, 3, 128}, 8)) {
                read(stage, ids);
                mesh.pipeline().barrier();
                Counts before = counts(counts);
                mesh.pipeline().barrier();
                read(stage, ids);
                mesh.pipeline().barrier();
                Counts after = counts(counts);
                mesh.pipeline().barrier();
                return after.minus(before);
            }
        }).get(0);
    }

    private static void read(PipelineStage stage, Tensor ids) {
        try (Tensor logits = stage.logits(ids)) {
            if (logits != null) { // the last stage's
                logits.toFloatArray();
            }
        }
    }

    private static MethodHandle countsHandle() {
        Path driver = Path.of(CudaDriver.library().location().orElseThrow());
        MemorySegment symbol = SymbolLookup.libraryLookup(driver, Arena.global()).find("tpk_emu_counts").orElseThrow();
        return Linker.nativeLinker().downcallHandle(symbol, FunctionDescriptor.ofVoid(ValueLayout.ADDRESS,
                ValueLayout.ADDRESS));
    }

    private static Counts counts(MethodHandle handle) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment launches = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment waits = arena.allocate(ValueLayout.JAVA_LONG);
            handle.invokeExact(launches, waits);
            return new Counts(launches.get(ValueLayout.JAVA_LONG, 0), waits.get(ValueLayout.JAVA_LONG, 0));
        } catch (Throwable t) {
            throw new AssertionError("tpk_emu_counts failed", t);
        }
    }
}
