package io.tpkernels.runtime;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Kernel parameters marshalled for {@code cuLaunchKernel}: a {@code void*[]} whose entries point at the values,
 * each scalar in an 8-byte slot, each by-value struct (a {@code CUtensorMap}) in a slot of its own size and
 * alignment. One instance per thread, allocated once and reused for every launch (the driver copies the values
 * during the call), so a launch allocates no native memory.
 *
 * <pre>{@code KernelArgs.begin().ptr(dst).ptr(src).i64(n)}</pre>
 */
public final class KernelArgs {
    /** The most parameters one kernel may take. */
    public static final int MAX = 32;
    /** The most bytes all of one kernel's parameter values may take (CUDA allows 4 KB of parameters). */
    public static final int MAX_BYTES = 4096;
    private static final long SLOT = 8;

    private static final ThreadLocal<KernelArgs> PER_THREAD = ThreadLocal.withInitial(KernelArgs::new);

    private final MemorySegment pointers;
    private final MemorySegment values;
    private final long[] offsets = new long[MAX];
    private final long[] sizes = new long[MAX];
    private int count;
    private long used;

    private KernelArgs() {
        MemorySegment block = Arena.ofAuto().allocate(MAX * ADDRESS.byteSize() + MAX_BYTES, 64);
        values = block.asSlice(0, MAX_BYTES);
        pointers = block.asSlice(MAX_BYTES, MAX * ADDRESS.byteSize());
    }

    /** This thread's instance, emptied. */
    public static KernelArgs begin() {
        KernelArgs a = PER_THREAD.get();
        a.count = 0;
        a.used = 0;
        return a;
    }

    /** Reserves the next parameter's slot of {@code size} bytes at {@code alignment}; its offset in the values. */
    private long next(long size, long alignment) {
        if (count == MAX) {
            throw new IllegalStateException("a kernel takes at most " + MAX + " parameters");
        }
        long offset = (used + alignment - 1) / alignment * alignment;
        if (offset + size > MAX_BYTES) {
            throw new IllegalStateException("kernel parameters over " + MAX_BYTES + " bytes");
        }
        offsets[count] = offset;
        sizes[count] = size;
        pointers.setAtIndex(ADDRESS, count, values.asSlice(offset, size));
        count++;
        used = offset + size;
        return offset;
    }

    /** Appends a device pointer ({@code T*}). */
    public KernelArgs ptr(long devicePointer) {
        values.set(JAVA_LONG, next(SLOT, SLOT), devicePointer);
        return this;
    }

    /** Appends an {@code int}. */
    public KernelArgs i32(int value) {
        values.set(JAVA_INT, next(SLOT, SLOT), value);
        return this;
    }

    /** Appends a {@code long long}. */
    public KernelArgs i64(long value) {
        values.set(JAVA_LONG, next(SLOT, SLOT), value);
        return this;
    }

    /** Appends a {@code float}. */
    public KernelArgs f32(float value) {
        values.set(JAVA_FLOAT, next(SLOT, SLOT), value);
        return this;
    }

    /**
     * Appends a struct passed by value (a {@code __grid_constant__ CUtensorMap}): its bytes, copied, at
     * {@code alignment}.
     */
    public KernelArgs struct(MemorySegment value, long alignment) {
        MemorySegment.copy(value, 0, values, next(value.byteSize(), alignment), value.byteSize());
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
     * The 8 bytes of scalar parameter {@code index} as a {@code long}, for a launcher that marshals the parameters
     * itself: an {@code int} or {@code float} parameter is in the low 4 bytes (the slot's first bytes,
     * little-endian), which is all the driver reads for it.
     */
    public long slot(int index) {
        checkIndex(index);
        return values.get(JAVA_LONG, offsets[index]);
    }

    /** A copy of the value bytes of parameter {@code index} (a scalar's 8-byte slot, or a struct's bytes). */
    public byte[] bytes(int index) {
        checkIndex(index);
        return values.asSlice(offsets[index], sizes[index]).toArray(JAVA_BYTE);
    }

    private void checkIndex(int index) {
        if (index < 0 || index >= count) {
            throw new IllegalArgumentException("parameter " + index + " of " + count + " kernel parameters");
        }
    }
}
