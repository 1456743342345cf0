package io.tpkernels.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Host memory: either allocated here from a shared {@link Arena} (so ranks on other threads may read it)
 * and freed on {@link #close()}, or a view of memory someone else owns (a mapped file), which
 * {@link #close()} does not free, only marks closed.
 *
 * <p>{@link #close()} waits for the {@linkplain #acquire() accesses} in flight before it closes the arena. Memory
 * owned elsewhere can still be closed by its owner under an access: the segment's own scope then makes any use an
 * {@link IllegalStateException} (a native call holding the segment makes the owner's close fail instead).
 */
public final class HostMemory implements Memory {
    /** Alignment of host allocations: enough for 16-byte vector access and for cache lines. */
    public static final long ALIGNMENT = 64;

    private final Arena arena;
    private final MemorySegment segment;
    private final MemoryMeter.Charge charge;
    private final Lifetime lifetime = new Lifetime();
    private volatile boolean freed;

    private HostMemory(Arena arena, MemorySegment segment, MemoryMeter.Charge charge) {
        this.arena = arena;
        this.segment = segment;
        this.charge = charge;
    }

    /**
     * {@code bytes} of zeroed host memory, owned by the returned object.
     *
     * @param bytes the size, {@code >= 0}, aligned to {@link #ALIGNMENT}
     * @return the memory, which the caller owns and closes
     * @throws IllegalArgumentException when {@code bytes} is negative
     */
    public static HostMemory allocate(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("cannot allocate " + bytes + " bytes");
        }
        Arena arena = Arena.ofShared();
        return new HostMemory(arena, arena.allocate(Math.max(bytes, 1), ALIGNMENT).asSlice(0, bytes),
                MemoryMeter.charge(Device.CPU, bytes));
    }

    /**
     * A view of {@code segment}, owned elsewhere: closing this does not free it.
     *
     * @param segment host memory whose owner keeps it alive while it is used
     * @return a wrapper that frees nothing when closed
     */
    public static HostMemory wrap(MemorySegment segment) {
        return new HostMemory(null, segment, MemoryMeter.Charge.NONE);
    }

    /**
     * The memory. Its scope is the owner's, so access after {@link #close()} throws {@link IllegalStateException};
     * to keep {@link #close()} from freeing it during a use, hold an {@link #acquire() access} for the use.
     *
     * @return the whole segment
     * @throws IllegalStateException when the memory was freed, or its owner closed it
     */
    public MemorySegment segment() {
        // Usable until freed: a close that waits for the accesses in flight has not freed it yet.
        if (freed || !segment.scope().isAlive()) {
            throw new IllegalStateException(closedMessage());
        }
        return segment;
    }

    @Override
    public Access acquire() {
        Access access = lifetime.acquire(this::closedMessage);
        if (!segment.scope().isAlive()) { // memory owned elsewhere, closed by its owner
            access.close();
            throw new IllegalStateException(closedMessage());
        }
        return access;
    }

    private String closedMessage() {
        return "host memory of " + segment.byteSize() + " bytes was used after it was closed";
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public long byteSize() {
        return segment.byteSize();
    }

    @Override
    public boolean isOpen() {
        return lifetime.isOpen() && segment.scope().isAlive();
    }

    /** Waits for the accesses in flight, then frees the memory if it was allocated here. */
    @Override
    public synchronized void close() {
        if (lifetime.close()) {
            freed = true;
            if (arena != null) {
                arena.close();
                charge.release();
            }
        }
    }
}
