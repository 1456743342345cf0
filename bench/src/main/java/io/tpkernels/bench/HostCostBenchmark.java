package io.tpkernels.bench;

import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.ops.Elementwise;
import io.tpkernels.ops.LoraLinear;
import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The host cost of one decode step (T = 1) through one LoRA MLP block at tp 1, BF16, hidden 1024, intermediate
 * 2816, rank 16: {@code h += down(silu(gate(h)) ⊙ up(h))}, gate and up the column-parallel LoRA linears, down the
 * row-parallel one (at tp 1 its partial sum is the whole sum and its all-reduce has nothing to do), all queued on one
 * {@link ExecutionContext}. The sizes are small so that the weights are; a decode step's host work (argument checks,
 * stream-ordered allocations, argument marshalling, one driver call per launch) does not grow with them.
 *
 * <p>{@code block} queues the block and returns without waiting: the host time per layer while the device keeps
 * up. {@code blockAndSynchronize} adds the one wait for it. {@code allocationsAlone} is the block's memory
 * management alone, to tell it apart from the rest. Meant for the CPU emulator with {@code TPK_EMU_SKIP_KERNELS=1},
 * which counts each launch and does not run it, so that the time is the host side alone. The emulator's driver
 * calls do not cost what a GPU driver's do (its launch is cheaper than a real one; its allocation, a mapping of its
 * own, dearer than one from a stream-ordered pool): the times compare Java sides on one driver, they are not GPU
 * figures. Setup prints the launches and host waits of one block from the emulator's counts. Needs a CUDA device:
 * without one its setup fails with one sentence saying so.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules=jdk.incubator.vector"})
public class HostCostBenchmark {
    private static final int TOKENS = 1;
    private static final int HIDDEN = 1024;
    private static final int INTERMEDIATE = 2816;
    private static final int RANK = 16;
    private static final float SCALE = LoraLinear.scale(32, RANK, false);

    private ExecutionContext ctx;
    private Tensor h;
    private LoraWeights gate;
    private LoraWeights up;
    private LoraWeights down;

    /** One projection's base weight {@code W [N, K]} and adapter {@code A [R, K]}, {@code B [N, R]}, all zeros. */
    private record LoraWeights(Tensor w, Tensor a, Tensor b) implements AutoCloseable {
        static LoraWeights zeros(Device device, int n, int k) {
            return new LoraWeights(Tensor.zeros(device, DType.BF16, n, k), Tensor.zeros(device, DType.BF16, RANK, k),
                    Tensor.zeros(device, DType.BF16, n, RANK));
        }

        Tensor forward(ExecutionContext ctx, Tensor x) {
            return LoraLinear.forward(ctx, x, w, a, b, SCALE, null);
        }

        @Override
        public void close() {
            try (w; a; b) {
                // all three closed
            }
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        if (CudaDevice.count() == 0) {
            throw new IllegalStateException("HostCostBenchmark needs a CUDA device (a GPU, or the CPU emulator with "
                    + "TPK_EMU_SKIP_KERNELS=1) and none was found ("
                    + CudaDriver.unavailableReason().orElse("the CUDA driver reports no devices") + ").");
        }
        Device device = Device.cuda(0);
        ctx = ExecutionContext.create(device);
        h = Tensor.zeros(device, DType.BF16, TOKENS, HIDDEN);
        gate = LoraWeights.zeros(device, INTERMEDIATE, HIDDEN);
        up = LoraWeights.zeros(device, INTERMEDIATE, HIDDEN);
        down = LoraWeights.zeros(device, HIDDEN, INTERMEDIATE);
        forward(); // loads the kernels and makes the choices decided on first use
        ctx.synchronize();
        printCounts(CudaDevice.of(device));
    }

    /** The launches and host waits of one block, and of one block with its synchronize, once per trial. */
    private void printCounts(CudaDevice device) {
        if (!device.isEmulator()) {
            System.out.println("HostCostBenchmark: on a GPU (" + device.name() + "): no launch counts");
            return;
        }
        EmulatorCounts before = EmulatorCounts.now().orElseThrow();
        forward();
        EmulatorCounts queued = EmulatorCounts.now().orElseThrow();
        ctx.synchronize();
        EmulatorCounts synced = EmulatorCounts.now().orElseThrow();
        System.out.printf("HostCostBenchmark: one block queues %d launches with %d host waits; with its synchronize, "
                + "%d host waits (emulator counts)%n", queued.minus(before).launches(),
                queued.minus(before).hostWaits(), synced.minus(before).hostWaits());
        if (!"1".equals(System.getenv("TPK_EMU_SKIP_KERNELS"))) {
            System.out.println("HostCostBenchmark: TPK_EMU_SKIP_KERNELS is not 1: the times include the kernels "
                    + "running on the CPU");
        }
    }

    @TearDown(Level.Iteration)
    public void drain() {
        ctx.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        ctx.close(); // first: it waits for the queued work before the tensors go
        h.close();
        gate.close();
        up.close();
        down.close();
    }

    @Benchmark
    public void block() {
        forward();
    }

    @Benchmark
    public void blockAndSynchronize() {
        forward();
        ctx.synchronize();
    }

    /**
     * The control: a block's four activations allocated and freed as {@code block} does, nothing launched. On the
     * emulator each allocation is a mapping of its own (with a guard page), so this part of {@code block} is the
     * emulator's memory calls more than the Java side.
     */
    @Benchmark
    public void allocationsAlone() {
        try (Tensor g = Tensor.allocate(ctx, DType.BF16, TOKENS, INTERMEDIATE);
             Tensor u = Tensor.allocate(ctx, DType.BF16, TOKENS, INTERMEDIATE);
             Tensor act = Tensor.allocate(ctx, DType.BF16, TOKENS, INTERMEDIATE);
             Tensor d = Tensor.allocate(ctx, DType.BF16, TOKENS, HIDDEN)) {
            // freed at once, in reverse, as the block frees its activations
        }
    }

    private void forward() {
        try (Tensor g = gate.forward(ctx, h);
             Tensor u = up.forward(ctx, h);
             Tensor act = Elementwise.siluMul(ctx, g, u);
             Tensor d = down.forward(ctx, act)) {
            Elementwise.addInPlace(ctx, h, d);
        }
    }
}
