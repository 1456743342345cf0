package io.tpkernels.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Host memory: either allocated here from a shared {@link Arena} (so ranks on other threads may read it)
 * and freed on {@link #close()}, or a view of memory someone else owns (a mapped file), which
 * {@link #close()} leaves alone.
 */
public final class HostMemory implements Memory {
    /** Alignment of host allocations: enough for 16-byte vector access and for cache lines. */
    public static final long ALIGNMENT = 64;

    private final Arena arena;
    private final MemorySegment segment;
    private final MemoryMeter.Charge charge;

    private HostMemory(Arena arena, MemorySegment segment, MemoryMeter.Charge charge) {
        this.arena = arena;
        this.segment = segment;
        this.charge = charge;
    }

    /** {@code bytes} of zeroed host memory, owned by the returned object. */
    public static HostMemory allocate(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("cannot allocate " + bytes + " bytes");
        }
        Arena arena = Arena.ofShared();
        return new HostMemory(arena, arena.allocate(Math.max(bytes, 1), ALIGNMENT).asSlice(0, bytes),
                MemoryMeter.charge(Device.CPU, bytes));
    }

    /** A view of {@code segment}, owned elsewhere: closing this does not free it. */
    public static HostMemory wrap(MemorySegment segment) {
        return new HostMemory(null, segment, MemoryMeter.Charge.NONE);
    }

    /** The memory. Its scope is the owner's, so access after {@link #close()} throws {@link IllegalStateException}. */
    public MemorySegment segment() {
        if (!isOpen()) {
            throw new IllegalStateException("host memory of " + segment.byteSize() + " bytes was already closed");
        }
        return segment;
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
        return segment.scope().isAlive();
    }

    @Override
    public synchronized void close() {
        if (arena != null && arena.scope().isAlive()) {
            arena.close();
            charge.release();
        }
    }
}
