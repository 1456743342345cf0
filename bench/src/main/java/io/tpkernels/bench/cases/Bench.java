package io.tpkernels.bench.cases;

import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tuning;

/**
 * One {@code tpk bench} run's way of measuring: the backend and its device, the stream GPU work is queued on,
 * the timing (warm-up runs, then the median of the timed runs), the shapes (the issues' or, with
 * {@code quick}, tiny ones) and how many bytes one cycle through the input sets touches.
 */
final class Bench implements AutoCloseable {
    /** One cycle through the input sets touches at least this much: well above a CPU's or a GPU's last-level cache. */
    private static final long ROTATION_BYTES = 256L << 20;
    /** ... and, on a GPU with a larger L2, four times its L2. */
    private static final int L2_MULTIPLE = 4;
    private static final long QUICK_ROTATION_BYTES = 1L << 20;
    /** Warm-ups last at least this long: the JIT compiles the hot loops meanwhile, and a GPU raises its clocks. */
    private static final long WARMUP_NANOS = 500_000_000L;

    private final Backend backend;
    private final CudaDevice gpu;
    private final ExecutionContext exec;
    private final Stopwatch stopwatch;
    private final int warmup;
    private final int runs;
    private final boolean quick;

    private Bench(Backend backend, CudaDevice gpu, ExecutionContext exec, Stopwatch stopwatch, int warmup, int runs,
                  boolean quick) {
        this.backend = backend;
        this.gpu = gpu;
        this.exec = exec;
        this.stopwatch = stopwatch;
        this.warmup = warmup;
        this.runs = runs;
        this.quick = quick;
    }

    /**
     * Opens the backend: on {@code cuda}, device 0 and an execution context (a stream) of its own, tuned by the
     * {@code tpk.*} system properties.
     *
     * @throws IllegalArgumentException for {@code cuda} where no GPU is found (the message says why)
     */
    static Bench open(Backend backend, int warmup, int runs, boolean quick) {
        if (backend == Backend.cpu) {
            return new Bench(backend, null, ExecutionContext.cpu(), new CpuStopwatch(), warmup, runs, quick);
        }
        String why = whyNoGpu();
        if (why != null) {
            throw new IllegalArgumentException("--backend cuda: " + why);
        }
        CudaDevice gpu = CudaDevice.of(0);
        // The kernels as they are: no self-check may swap a slow or broken one for another behind the numbers.
        ExecutionContext exec = ExecutionContext.create(gpu.device(), Tuning.fromSystemProperties().withSelfCheck(false));
        return new Bench(backend, gpu, exec, new GpuStopwatch(exec.stream()), warmup, runs, quick);
    }

    private static String whyNoGpu() {
        return CudaDevice.count() == 0 ? "no GPU can be used: " + CudaDevice.unavailableReason().orElseThrow() : null;
    }

    Backend backend() {
        return backend;
    }

    boolean isCuda() {
        return backend == Backend.cuda;
    }

    /** Whether the shapes are the tiny ones (a check that everything runs, not a measurement). */
    boolean quick() {
        return quick;
    }

    /** Where tensors live: {@link Device#CPU} or the GPU. */
    Device device() {
        return isCuda() ? gpu.device() : Device.CPU;
    }

    /** The context every run is queued on (on a GPU, its stream). */
    ExecutionContext exec() {
        return exec;
    }

    /** The device in words, for the report's header. */
    String describe() {
        return isCuda() ? gpu.toString() : "cpu (" + Runtime.getRuntime().availableProcessors() + " cores)";
    }

    int warmup() {
        return warmup;
    }

    int runs() {
        return runs;
    }

    /** The bytes the runs of one cycle through the input sets touch together. */
    long rotationBytes() {
        if (quick) {
            return QUICK_ROTATION_BYTES;
        }
        return isCuda() ? Math.max(ROTATION_BYTES, (long) L2_MULTIPLE * gpu.l2CacheBytes()) : ROTATION_BYTES;
    }

    /** How many input sets runs that touch {@code bytesPerRun} each cycle through (see {@link Rotation}). */
    int setsFor(double bytesPerRun) {
        return Rotation.count(bytesPerRun, rotationBytes());
    }

    /** A fresh scope for one shape's tensors, its random inputs drawn from {@code seed}. */
    Tensors tensors(long seed) {
        return new Tensors(device(), seed);
    }

    /** The least time warm-ups take, unless {@code quick}. */
    double warmupSeconds() {
        return quick ? 0 : WARMUP_NANOS / 1e9;
    }

    /**
     * The median milliseconds of {@link #runs()} timed runs of {@code work}, after at least {@link #warmup()}
     * untimed ones that together take at least {@link #warmupSeconds()}.
     */
    double medianMillis(Work work) {
        if (gpu != null) {
            gpu.synchronize(); // setup copies on the default stream are done before the first run is timed
        }
        long warmUntil = System.nanoTime() + (long) (warmupSeconds() * 1e9);
        int run = 0;
        while (run < warmup || System.nanoTime() < warmUntil) {
            time(work, run++);
        }
        double[] ms = new double[runs];
        for (int i = 0; i < runs; i++) {
            ms[i] = time(work, run++);
        }
        return Median.of(ms);
    }

    private double time(Work work, int run) {
        stopwatch.start();
        work.run(run);
        double ms = stopwatch.stopMillis();
        work.settle(run);
        return ms;
    }

    @Override
    public void close() {
        stopwatch.close();
        if (gpu != null) {
            exec.close();
        }
    }
}
