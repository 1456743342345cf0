package io.tpkernels.runtime;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * What this process knows of each hand-written kernel on one device: whether it passed its self-check (a run on a
 * small shape against the CPU reference, the first time a context chose it) or is broken (it failed, or someone
 * said so), by kernel name. A broken kernel is not chosen again in this process; whoever chose it takes a simpler
 * one, and a warning on the {@code io.tpkernels.runtime} logger names both.
 *
 * <p>Checks run one at a time per device, on a stream of their own that no other work waits for and that waits for
 * no other stream (its copies are asynchronous, its memory stream-ordered): a check never waits for a rank's queued
 * work, so ranks whose streams wait for each other cannot deadlock on it.
 */
public final class KernelHealth {
    private final CudaDevice device;
    private final ConcurrentHashMap<String, String> broken = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Boolean> good = new ConcurrentHashMap<>();
    private final LongAdder checks = new LongAdder();
    private ExecutionContext checking;

    KernelHealth(CudaDevice device) {
        this.device = device;
    }

    /**
     * Whether {@code kernel} may be used: answered from what is known, or by running {@code check} now (once per
     * kernel and process) on the device's checking context, which returns {@code null} when the kernel gave the
     * reference's result, else why not (a check that throws fails with what it threw). A failure is logged once,
     * naming the kernel and {@code fallback}, what the caller uses instead.
     *
     * @param kernel the kernel's name
     * @param fallback what the caller uses instead, as the warning names it
     * @param check runs the kernel on a small shape on the given context and compares it with the CPU reference:
     *     {@code null} when they agree, else why not
     * @return {@code true} when the kernel passed its check (now or before), {@code false} when it is broken
     */
    public boolean usable(String kernel, String fallback, Function<ExecutionContext, String> check) {
        if (good.containsKey(kernel)) {
            return true;
        }
        if (broken.containsKey(kernel)) {
            return false;
        }
        synchronized (this) {
            if (good.containsKey(kernel) || broken.containsKey(kernel)) {
                return good.containsKey(kernel);
            }
            checks.increment();
            String why;
            try {
                why = MemoryMeter.uncharged(() -> check.apply(checkingContext()));
            } catch (RuntimeException e) {
                why = "the check threw " + e;
            }
            if (why == null) {
                good.put(kernel, Boolean.TRUE);
                return true;
            }
            broken.put(kernel, why);
            System.getLogger("io.tpkernels.runtime").log(System.Logger.Level.WARNING, "kernel " + kernel
                    + " failed its self-check on " + device + " (" + why + "): using " + fallback
                    + " instead in this process");
            return false;
        }
    }

    /**
     * Marks {@code kernel} broken on this device for the rest of the process (for instance after a failed verify).
     *
     * @param kernel the kernel's name
     * @param why what {@link #brokenBecause} then says
     */
    public void markBroken(String kernel, String why) {
        good.remove(kernel);
        broken.put(kernel, why);
    }

    /**
     * Forgets what is known of {@code kernel}: its next use checks it again.
     *
     * @param kernel the kernel's name
     */
    public void forget(String kernel) {
        good.remove(kernel);
        broken.remove(kernel);
    }

    /**
     * Why {@code kernel} is broken on this device, or empty when it is not known to be.
     *
     * @param kernel the kernel's name
     * @return the reason, or empty
     */
    public Optional<String> brokenBecause(String kernel) {
        return Optional.ofNullable(broken.get(kernel));
    }

    /**
     * How many self-checks this device has run in this process.
     *
     * @return the count
     */
    public long checksRun() {
        return checks.sum();
    }

    /** The context checks run on: a non-blocking stream of its own, kept for the life of the process. */
    private ExecutionContext checkingContext() {
        if (checking == null) {
            checking = ExecutionContext.onStream(CudaStream.create(device), Tuning.defaults().withSelfCheck(false));
        }
        return checking;
    }
}
