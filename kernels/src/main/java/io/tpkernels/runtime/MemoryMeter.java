package io.tpkernels.runtime;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Counts the memory allocated on one thread while it is open: live and peak bytes per device. It answers
 * "how much did this rank allocate while loading its layers?" (a rank is a thread of a
 * {@code LocalGroup}), so tests can show that a rank holds its shard and never a full tensor.
 *
 * <p>Allocations made on the thread while the meter is open are charged to it; freeing charged memory
 * credits it back, whichever thread frees it. Mapped files and views are not allocations and are not
 * counted. Meters nest: opening one hides the outer one until it is closed.
 */
public final class MemoryMeter implements AutoCloseable {
    private static final ThreadLocal<MemoryMeter> CURRENT = new ThreadLocal<>();

    private final MemoryMeter outer;
    private final Map<Device, AtomicLong> live = new ConcurrentHashMap<>();
    private final Map<Device, AtomicLong> peak = new ConcurrentHashMap<>();

    private MemoryMeter(MemoryMeter outer) {
        this.outer = outer;
    }

    /**
     * Starts metering this thread's allocations.
     *
     * @return the meter, to close when metering ends; it hides any meter already open on this thread until then
     */
    public static MemoryMeter start() {
        MemoryMeter m = new MemoryMeter(CURRENT.get());
        CURRENT.set(m);
        return m;
    }

    /**
     * {@code work}'s result, with no meter open on this thread while it runs: what it allocates is charged to no
     * one (a kernel's self-check, which belongs to the process, not to whatever was being loaded).
     */
    static <T> T uncharged(Supplier<T> work) {
        MemoryMeter open = CURRENT.get();
        CURRENT.remove();
        try {
            return work.get();
        } finally {
            if (open != null) {
                CURRENT.set(open);
            }
        }
    }

    /**
     * Bytes allocated while open and not yet freed, on {@code device}.
     *
     * @param device the device to read
     * @return the bytes, {@code >= 0}
     */
    public long liveBytes(Device device) {
        AtomicLong v = live.get(device);
        return v == null ? 0 : v.get();
    }

    /**
     * The most bytes that were live at once on {@code device}.
     *
     * @param device the device to read
     * @return the peak, {@code >= 0}
     */
    public long peakBytes(Device device) {
        AtomicLong v = peak.get(device);
        return v == null ? 0 : v.get();
    }

    /** Stops metering; the counts stay readable. */
    @Override
    public void close() {
        if (CURRENT.get() == this) {
            CURRENT.set(outer);
        }
    }

    /**
     * Charges {@code bytes} on {@code device} to the meter open on this thread, if any. For
     * {@link Memory} implementations: they call it when they allocate and call {@link Charge#release()}
     * when they free.
     *
     * @param device where the memory was allocated
     * @param bytes how many bytes
     * @return the charge to release when the memory is freed; {@link Charge#NONE} when no meter is open or
     *     {@code bytes} is 0
     */
    public static Charge charge(Device device, long bytes) {
        MemoryMeter m = CURRENT.get();
        if (m == null || bytes == 0) {
            return Charge.NONE;
        }
        long now = m.live.computeIfAbsent(device, d -> new AtomicLong()).addAndGet(bytes);
        m.peak.computeIfAbsent(device, d -> new AtomicLong()).accumulateAndGet(now, Math::max);
        return () -> m.live.get(device).addAndGet(-bytes);
    }

    /** A charge to credit back when the memory is freed. */
    @FunctionalInterface
    public interface Charge {
        /** Nothing was charged. */
        Charge NONE = () -> { };

        /** Credits the bytes back; call once. */
        void release();
    }
}
