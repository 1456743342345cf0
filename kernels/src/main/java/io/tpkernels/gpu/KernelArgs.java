package io.tpkernels.gpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Kernel parameters marshalled for {@code cuLaunchKernel}: a {@code void*[]} whose entries point at 8-byte
 * slots holding the values. One instance per thread, allocated once and reused for every launch (the driver
 * copies the values during the call), so a launch allocates no native memory.
 *
 * <pre>{@code KernelArgs.begin().ptr(dst).ptr(src).i64(n)}</pre>
 */
public final class KernelArgs {
    /** The most parameters one kernel may take. */
    public static final int MAX = 32;
    private static final long SLOT = 8;

    private static final ThreadLocal<KernelArgs> PER_THREAD = ThreadLocal.withInitial(KernelArgs::new);

    private final MemorySegment pointers;
    private final MemorySegment values;
    private int count;

    private KernelArgs() {
        MemorySegment block = Arena.ofAuto().allocate(MAX * ADDRESS.byteSize() + MAX * SLOT, 16);
        pointers = block.asSlice(0, MAX * ADDRESS.byteSize());
        values = block.asSlice(MAX * ADDRESS.byteSize(), MAX * SLOT);
        for (int i = 0; i < MAX; i++) {
            pointers.setAtIndex(ADDRESS, i, values.asSlice(i * SLOT, SLOT));
        }
    }

    /** This thread's instance, emptied. */
    public static KernelArgs begin() {
        KernelArgs a = PER_THREAD.get();
        a.count = 0;
        return a;
    }

    private long next() {
        if (count == MAX) {
            throw new IllegalStateException("a kernel takes at most " + MAX + " parameters");
        }
        return (count++) * SLOT;
    }

    /** Appends a device pointer ({@code T*}). */
    public KernelArgs ptr(long devicePointer) {
        values.set(JAVA_LONG, next(), devicePointer);
        return this;
    }

    /** Appends an {@code int}. */
    public KernelArgs i32(int value) {
        values.set(JAVA_INT, next(), value);
        return this;
    }

    /** Appends a {@code long long}. */
    public KernelArgs i64(long value) {
        values.set(JAVA_LONG, next(), value);
        return this;
    }

    /** Appends a {@code float}. */
    public KernelArgs f32(float value) {
        values.set(JAVA_FLOAT, next(), value);
        return this;
    }

    /** How many parameters were appended. */
    public int count() {
        return count;
    }

    /** The {@code void*[]} to hand to {@code cuLaunchKernel}. */
    public MemorySegment pointerArray() {
        return pointers;
    }

    /**
     * The 8 bytes of parameter {@code index} as a {@code long}, for a launcher that marshals the parameters itself:
     * an {@code int} or {@code float} parameter is in the low 4 bytes (the slot's first bytes, little-endian), which
     * is all the driver reads for it.
     */
    public long slot(int index) {
        if (index < 0 || index >= count) {
            throw new IllegalArgumentException("parameter " + index + " of " + count + " kernel parameters");
        }
        return values.get(JAVA_LONG, index * SLOT);
    }
}
