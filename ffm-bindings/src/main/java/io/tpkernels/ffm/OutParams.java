package io.tpkernels.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A small per-thread native buffer for the out-parameters of bindings ({@code CUdeviceptr *},
 * {@code int *}), so that a call allocates no arena. Each call uses it only between the downcall and the
 * read of its results, so nesting is impossible.
 */
public final class OutParams {
    /** Bytes available: room for a few pointers or 64-bit values. */
    public static final long BYTES = 64;

    private static final ThreadLocal<MemorySegment> BUFFER =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(BYTES, 16));

    private OutParams() {
    }

    /**
     * This thread's buffer, {@value #BYTES} bytes, 16-byte aligned.
     *
     * @return the buffer, valid on this thread only
     */
    public static MemorySegment get() {
        return BUFFER.get();
    }

    /**
     * Rethrows what a downcall threw: unchecked as is, anything else wrapped (a downcall declares Throwable).
     *
     * @param t what the downcall threw
     * @return {@code t} when it is unchecked, else an {@link IllegalStateException} wrapping it, for the caller to
     *     throw
     * @throws Error when {@code t} is an error, rethrown as is
     */
    public static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("native call failed: " + t, t);
    }
}
