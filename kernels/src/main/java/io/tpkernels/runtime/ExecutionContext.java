package io.tpkernels.runtime;

import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Where one rank's operations run, and how: its device, its stream, the launcher that carries kernels to the
 * driver, and the {@link Tuning} decided when the context was built. Every operation and collective takes one.
 *
 * <h2>Stream order</h2>
 * On a GPU an operation checks its arguments, queues its kernels on {@link #stream()} and returns without waiting;
 * operations on one context run in the order they were called. The host waits only where it reads: a copy of a
 * result to the host ({@link Tensor#toFloatArray()}, {@link Tensor#copyTo} the CPU), the ids of an argmax, and
 * {@link #synchronize()}. Checks that only the device can make (a token id out of range) are read at the first of
 * those that follows: reading any tensor this context wrote, or synchronizing it, throws the check's error before
 * any result derived from the bad input reaches the caller.
 *
 * <p>The stream of a context built here is a blocking stream: it is ordered with the device's legacy default stream,
 * so a synchronous copy (which runs there) sees everything queued on the context before it. Tensors a context
 * allocates ({@link Tensor#allocate(ExecutionContext, DType, long...)}) are allocated and freed in its stream's
 * order, so closing one right after queueing a kernel that reads it is safe without waiting. Such a tensor belongs
 * to its context: another stream that uses it must be ordered with events ({@link #recordEvent}, {@link #waitFor}).
 *
 * <p>On the CPU operations run at the call; the context only carries the tuning.
 *
 * <p>A context is used by one thread at a time (a rank is one thread).
 */
public final class ExecutionContext implements AutoCloseable {
    /** The host's: every choice in a tuning is a GPU's, so the CPU runs with the defaults. */
    private static final ExecutionContext CPU = new ExecutionContext(Device.CPU, null, null, false, Tuning.defaults(),
            KernelLauncher.FFM);
    private static final ConcurrentHashMap<Device, ExecutionContext> DEFAULTS = new ConcurrentHashMap<>();

    /** A device-side check whose answer is read once the work before it is done. */
    @FunctionalInterface
    public interface DeviceCheck {
        /** Reads the answer (the stream is done); throws the error it reports, if any. */
        void verify();
    }

    private final Device device;
    private final CudaDevice cuda;
    private final CudaStream stream;
    private final boolean ownsStream;
    private final Tuning tuning;
    private final KernelLauncher launcher;
    private final ConcurrentLinkedQueue<DeviceCheck> deferred;
    private boolean closed;

    private ExecutionContext(Device device, CudaDevice cuda, CudaStream stream, boolean ownsStream, Tuning tuning,
                             KernelLauncher launcher) {
        this(device, cuda, stream, ownsStream, tuning, launcher, new ConcurrentLinkedQueue<>());
    }

    private ExecutionContext(Device device, CudaDevice cuda, CudaStream stream, boolean ownsStream, Tuning tuning,
                             KernelLauncher launcher, ConcurrentLinkedQueue<DeviceCheck> deferred) {
        this.device = device;
        this.cuda = cuda;
        this.stream = stream;
        this.ownsStream = ownsStream;
        this.tuning = Objects.requireNonNull(tuning, "tuning");
        this.launcher = Objects.requireNonNull(launcher, "launcher");
        this.deferred = deferred;
    }

    /**
     * The host's context.
     *
     * @return the CPU context, shared by the process; closing it does nothing
     */
    public static ExecutionContext cpu() {
        return CPU;
    }

    /**
     * A new context on {@code device}, tuned by the {@code tpk.*} system properties now (a bad value is an
     * {@link IllegalArgumentException} naming the property); on a GPU it owns a new stream, destroyed by
     * {@link #close()}.
     *
     * @param device the device; for the CPU the result is the shared CPU context when the tuning is the default
     * @return the context, which the caller closes
     * @throws IllegalArgumentException when a {@code tpk.*} property has a bad value, or the device does not exist
     * @throws IllegalStateException when {@code device} is a GPU and the CUDA driver is not available
     * @throws io.tpkernels.ffm.cuda.CudaException when the stream cannot be created
     */
    public static ExecutionContext create(Device device) {
        return create(device, Tuning.fromSystemProperties());
    }

    /**
     * A new context on {@code device} with {@code tuning}; on a GPU it owns a new stream.
     *
     * @param device the device
     * @param tuning the choices its operations make
     * @return the context, which the caller closes
     * @throws IllegalArgumentException when the device does not exist
     * @throws IllegalStateException when {@code device} is a GPU and the CUDA driver is not available
     * @throws io.tpkernels.ffm.cuda.CudaException when the stream cannot be created
     */
    public static ExecutionContext create(Device device, Tuning tuning) {
        Objects.requireNonNull(tuning, "tuning");
        if (!device.isCuda()) {
            return tuning.equals(CPU.tuning) ? CPU : new ExecutionContext(Device.CPU, null, null, false, tuning,
                    KernelLauncher.FFM);
        }
        CudaDevice cuda = CudaDevice.of(device);
        return new ExecutionContext(device, cuda, CudaStream.createBlocking(cuda), true, tuning, KernelLauncher.FFM);
    }

    /**
     * A context over {@code stream}, which someone else owns (another library's stream, a stream being captured
     * into a CUDA graph): {@link #close()} leaves it alone.
     *
     * @param stream the stream to queue work on; its owner keeps it alive while the context is used
     * @param tuning the choices its operations make
     * @return the context; closing it synchronizes nothing and destroys nothing
     */
    public static ExecutionContext onStream(CudaStream stream, Tuning tuning) {
        return new ExecutionContext(stream.device().device(), stream.device(), stream, false, tuning,
                KernelLauncher.FFM);
    }

    /**
     * The process's default context of {@code device}, built on first use and never closed: for single-threaded
     * programs and tests. Ranks that run side by side build their own ({@link #create}).
     *
     * @param device the device
     * @return the shared context, which the caller must not close
     * @throws IllegalArgumentException when a {@code tpk.*} property has a bad value, or the device does not exist
     * @throws IllegalStateException when {@code device} is a GPU and the CUDA driver is not available
     */
    public static ExecutionContext defaultFor(Device device) {
        if (!device.isCuda()) {
            return CPU;
        }
        return DEFAULTS.computeIfAbsent(device, ExecutionContext::create);
    }

    /**
     * This context's device and stream with another tuning; it shares the deferred checks and owns nothing.
     *
     * @param other the tuning of the new context
     * @return a context that queues on the same stream; closing it does nothing
     */
    public ExecutionContext withTuning(Tuning other) {
        return new ExecutionContext(device, cuda, stream, false, other, launcher, deferred);
    }

    /**
     * This context's device, stream and tuning with another kernel launcher (another binding of the driver, such as
     * {@code tpkernels-jcuda}'s, for operations that launch through one); it shares the deferred checks and owns
     * nothing.
     *
     * @param other the launcher of the new context
     * @return a context that queues on the same stream; closing it does nothing
     */
    public ExecutionContext withLauncher(KernelLauncher other) {
        return new ExecutionContext(device, cuda, stream, false, tuning, other, deferred);
    }

    /**
     * The device its operations run on and its tensors live on.
     *
     * @return {@link Device#CPU} or the CUDA device
     */
    public Device device() {
        return device;
    }

    /**
     * Whether operations on this context run on a GPU.
     *
     * @return {@code true} for a CUDA context
     */
    public boolean isCuda() {
        return cuda != null;
    }

    /**
     * The CUDA device.
     *
     * @return the device
     * @throws IllegalStateException on the CPU context
     */
    public CudaDevice cudaDevice() {
        if (cuda == null) {
            throw new IllegalStateException("the CPU context has no CUDA device");
        }
        return cuda;
    }

    /**
     * The stream this context's work is queued on.
     *
     * @return the stream
     * @throws IllegalStateException on the CPU context
     */
    public CudaStream stream() {
        if (stream == null) {
            throw new IllegalStateException("the CPU context has no stream");
        }
        return stream;
    }

    /**
     * The choices this context's operations make (kernel variants, where code comes from, checks).
     *
     * @return the tuning, fixed when the context was built
     */
    public Tuning tuning() {
        return tuning;
    }

    /**
     * The launcher that carries this context's kernels to the driver.
     *
     * @return {@link KernelLauncher#FFM} unless {@link #withLauncher} gave another
     */
    public KernelLauncher launcher() {
        return launcher;
    }

    /**
     * The kernel {@code kernel} of module {@code module}, from the code {@link Tuning#ptxSource()} names.
     *
     * @param module the kernel module, the {@code .cu} file's name without extension ({@code "cast"})
     * @param kernel the kernel's (unmangled) name
     * @return the kernel, loaded on first use and cached on the device
     * @throws IllegalStateException on the CPU context, or when no packaged or compiled code of the module loads on
     *     this device
     * @throws io.tpkernels.ffm.cuda.CudaException when the driver fails otherwise, such as a kernel the module lacks
     */
    public CudaKernel kernel(String module, String kernel) {
        return cudaDevice().modules().kernel(module, kernel, tuning.ptxSource());
    }

    /**
     * Throws unless {@code t} lives on this context's device; {@code op} names the caller.
     *
     * @param op the operation, as the message names it
     * @param t the tensor to check
     * @throws IllegalArgumentException when {@code t} is on another device
     */
    public void requireOn(String op, Tensor t) {
        if (!t.device().equals(device)) {
            throw new IllegalArgumentException(op + ": " + t.describe() + " is not on this context's device " + device);
        }
    }

    /**
     * Queues {@code check} to be read once the work queued so far is done: at the next {@link #synchronize()} or
     * host read of a tensor this context wrote.
     *
     * @param check the check to read once the stream has passed the work queued so far
     */
    public void defer(DeviceCheck check) {
        deferred.add(check);
    }

    /**
     * Marks {@code t} as written by this context: a host read of it first reads the deferred checks.
     *
     * @param t a tensor this context's queued work writes
     */
    public void wrote(Tensor t) {
        if (cuda != null) {
            t.writtenBy(this);
        }
    }

    /** Whether checks wait to be read. */
    boolean hasDeferredChecks() {
        return !deferred.isEmpty();
    }

    /**
     * If checks wait to be read, synchronizes (reading them, throwing the first error); else returns at once. For
     * results about to leave this context other than through a host read: a pipeline stage's activations sent on.
     */
    public void readDeferredChecks() {
        if (hasDeferredChecks()) {
            synchronize();
        }
    }

    /**
     * Waits until the work queued on this context is done, then reads the deferred checks: the first that reports
     * an error throws it (the others are dropped: their inputs fed the same failed computation).
     *
     * @throws RuntimeException the first error a deferred check reports (an {@link IllegalArgumentException} for bad
     *     input such as a token id out of range)
     * @throws io.tpkernels.ffm.cuda.CudaException when the stream reports an error of the work queued on it
     */
    public void synchronize() {
        if (stream != null) {
            stream.synchronize();
        }
        verifyDeferred();
    }

    /** Reads the deferred checks; the caller has waited for the stream. */
    void verifyDeferred() {
        RuntimeException first = null;
        for (DeviceCheck c; (c = deferred.poll()) != null; ) {
            try {
                c.verify();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /**
     * Records an event at the current end of this context's stream; the caller closes it.
     *
     * @return the event, which the caller closes
     * @throws IllegalStateException on the CPU context
     */
    public CudaEvent recordEvent() {
        CudaEvent e = CudaEvent.createUntimed(cudaDevice());
        try {
            e.record(stream());
            return e;
        } catch (RuntimeException ex) {
            e.close();
            throw ex;
        }
    }

    /**
     * Work queued on this context after this call waits for the work recorded by {@code event} (no host wait).
     *
     * @param event an event recorded on any stream of the same device
     * @throws IllegalStateException on the CPU context
     */
    public void waitFor(CudaEvent event) {
        stream().waitFor(event);
    }

    /**
     * Synchronizes (reading the deferred checks), then destroys the stream if this context owns it. Closing twice
     * is harmless.
     */
    @Override
    public synchronized void close() {
        if (!ownsStream || closed) {
            return;
        }
        closed = true;
        try {
            synchronize();
        } finally {
            stream.close();
        }
    }

    @Override
    public String toString() {
        return "context on " + device + (ownsStream ? " with a stream of its own" : "") + ", " + tuning;
    }
}
