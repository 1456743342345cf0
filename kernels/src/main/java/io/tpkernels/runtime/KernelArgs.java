package io.tpkernels.runtime;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A kernel's parameters, in order, as {@code cuLaunchKernel} takes them: each scalar in an 8-byte slot, each
 * by-value struct (a {@code CUtensorMap}) in a slot of its own size and alignment. The values are collected on the
 * Java heap, one small list per launch; the launch {@linkplain #marshal marshals} them into native memory its stream
 * owns, so a list is never shared between threads and a launch allocates no native memory.
 *
 * <pre>{@code KernelArgs.begin().ptr(dst).ptr(src).i64(n)}</pre>
 */
public final class KernelArgs {
    /** The most parameters one kernel may take. */
    public static final int MAX = 32;
    /** The most bytes all of one kernel's parameter values may take (CUDA allows 4 KB of parameters). */
    public static final int MAX_BYTES = 4096;
    /** Native bytes {@link #marshal} needs: the values, then the {@code void*[]} pointing at them. */
    static final long BLOCK_BYTES = MAX_BYTES + MAX * 8L;
    /** The alignment of that native block: the widest a struct parameter asks for. */
    static final long BLOCK_ALIGNMENT = 64;
    private static final int SLOT = 8;

    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    /** The values, little-endian as the device reads them; grows past the scalar slots only for structs. */
    private byte[] values = new byte[MAX * SLOT / 2];
    private final int[] offsets = new int[MAX];
    private final int[] sizes = new int[MAX];
    private int count;
    private int used;

    private KernelArgs() {
    }

    /**
     * A new, empty parameter list.
     *
     * @return the list, to fill and hand to one launch
     */
    public static KernelArgs begin() {
        return new KernelArgs();
    }

    /** Reserves the next parameter's slot of {@code size} bytes at {@code alignment}; its offset in the values. */
    private int next(int size, int alignment) {
        if (count == MAX) {
            throw new IllegalStateException("a kernel takes at most " + MAX + " parameters");
        }
        int offset = (used + alignment - 1) / alignment * alignment;
        if (offset + size > MAX_BYTES) {
            throw new IllegalStateException("kernel parameters over " + MAX_BYTES + " bytes");
        }
        if (offset + size > values.length) {
            values = Arrays.copyOf(values, Math.min(MAX_BYTES, Math.max(2 * values.length, offset + size)));
        }
        offsets[count] = offset;
        sizes[count] = size;
        count++;
        used = offset + size;
        return offset;
    }

    /**
     * Appends a device pointer ({@code T*}).
     *
     * @param devicePointer the device address
     * @return this list
     * @throws IllegalStateException when the list already holds {@link #MAX} parameters or {@link #MAX_BYTES} bytes
     */
    public KernelArgs ptr(long devicePointer) {
        return i64(devicePointer);
    }

    /**
     * Appends an {@code int} (in the low 4 bytes of its slot).
     *
     * @param value the value
     * @return this list
     * @throws IllegalStateException when the list already holds {@link #MAX} parameters or {@link #MAX_BYTES} bytes
     */
    public KernelArgs i32(int value) {
        int at = next(SLOT, SLOT); // first: it may grow the array
        INT.set(values, at, value);
        return this;
    }

    /**
     * Appends a {@code long long}.
     *
     * @param value the value
     * @return this list
     * @throws IllegalStateException when the list already holds {@link #MAX} parameters or {@link #MAX_BYTES} bytes
     */
    public KernelArgs i64(long value) {
        int at = next(SLOT, SLOT); // first: it may grow the array
        LONG.set(values, at, value);
        return this;
    }

    /**
     * Appends a {@code double}.
     *
     * @param value the value
     * @return this list
     * @throws IllegalStateException when the list already holds {@link #MAX} parameters or {@link #MAX_BYTES} bytes
     */
    public KernelArgs f64(double value) {
        return i64(Double.doubleToRawLongBits(value));
    }

    /**
     * Appends a {@code float} (in the low 4 bytes of its slot).
     *
     * @param value the value
     * @return this list
     * @throws IllegalStateException when the list already holds {@link #MAX} parameters or {@link #MAX_BYTES} bytes
     */
    public KernelArgs f32(float value) {
        return i32(Float.floatToRawIntBits(value));
    }

    /**
     * Appends a struct passed by value (a {@code __grid_constant__ CUtensorMap}): its bytes, copied, at
     * {@code alignment}.
     *
     * @param value the struct's bytes, as the device lays it out
     * @param alignment the struct's alignment in bytes, a power of two up to 64
     * @return this list
     * @throws IllegalStateException when the list already holds {@link #MAX} parameters, or the struct would take it
     *     past {@link #MAX_BYTES} bytes
     */
    public KernelArgs struct(byte[] value, int alignment) {
        int at = next(value.length, alignment); // first: it may grow the array
        System.arraycopy(value, 0, values, at, value.length);
        return this;
    }

    /**
     * How many parameters were appended.
     *
     * @return the count, at most {@link #MAX}
     */
    public int count() {
        return count;
    }

    /**
     * The 8 bytes of scalar parameter {@code index} as a {@code long}, for a launcher that marshals the parameters
     * itself: an {@code int} or {@code float} parameter is in the low 4 bytes (the slot's first bytes,
     * little-endian), which is all the driver reads for it; the high 4 are zero.
     *
     * @param index the parameter's position, in {@code [0, count())}
     * @return the slot's bytes, little-endian
     * @throws IllegalArgumentException when {@code index} is out of range
     */
    public long slot(int index) {
        checkIndex(index);
        return (long) LONG.get(values, offsets[index]);
    }

    /**
     * A copy of the value bytes of parameter {@code index} (a scalar's 8-byte slot, or a struct's bytes).
     *
     * @param index the parameter's position, in {@code [0, count())}
     * @return the bytes
     * @throws IllegalArgumentException when {@code index} is out of range
     */
    public byte[] bytes(int index) {
        checkIndex(index);
        return Arrays.copyOfRange(values, offsets[index], offsets[index] + sizes[index]);
    }

    /**
     * Writes the parameters into {@code block} ({@link #BLOCK_BYTES}, aligned to {@link #BLOCK_ALIGNMENT}): the
     * values at its start, at their offsets, then the {@code void*[]} of their addresses, which it returns for
     * {@code cuLaunchKernel}. The caller holds the block for the duration of the launch.
     */
    MemorySegment marshal(MemorySegment block) {
        MemorySegment.copy(values, 0, block, JAVA_BYTE, 0, used);
        long base = block.address();
        for (int i = 0; i < count; i++) {
            block.set(JAVA_LONG, MAX_BYTES + 8L * i, base + offsets[i]);
        }
        return block.asSlice(MAX_BYTES, 8L * MAX);
    }

    private void checkIndex(int index) {
        if (index < 0 || index >= count) {
            throw new IllegalArgumentException("parameter " + index + " of " + count + " kernel parameters");
        }
    }
}
