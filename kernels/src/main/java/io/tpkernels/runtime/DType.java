package io.tpkernels.runtime;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Element types. Floating-point conversions to F16 and BF16 round to nearest, ties to even; NaN stays
 * NaN (quieted, sign kept) and infinities stay infinities. Widening to F32 is exact.
 *
 * <p>Host memory is read and written with unaligned layouts because checkpoint data mapped from a file
 * need not be aligned.
 */
public enum DType {
    /** IEEE binary32. */
    F32(4, true, "F32"),
    /** IEEE binary16. */
    F16(2, true, "F16"),
    /** bfloat16: the top half of a binary32. */
    BF16(2, true, "BF16"),
    /** Signed 32-bit integer. */
    I32(4, false, "I32"),
    /** Signed 64-bit integer. */
    I64(8, false, "I64");

    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    private final int byteSize;
    private final boolean floatingPoint;
    private final String safetensorsName;

    DType(int byteSize, boolean floatingPoint, String safetensorsName) {
        this.byteSize = byteSize;
        this.floatingPoint = floatingPoint;
        this.safetensorsName = safetensorsName;
    }

    /**
     * Bytes per element.
     *
     * @return 4 for F32 and I32, 2 for F16 and BF16, 8 for I64
     */
    public int byteSize() {
        return byteSize;
    }

    /**
     * Whether this is F32, F16 or BF16.
     *
     * @return {@code true} for the floating-point dtypes, {@code false} for I32 and I64
     */
    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /**
     * The name safetensors headers use ({@code "BF16"}).
     *
     * @return the safetensors name, equal to the constant's name
     */
    public String safetensorsName() {
        return safetensorsName;
    }

    /**
     * The dtype a safetensors header names, or an {@link IllegalArgumentException} naming it.
     *
     * @param name a safetensors dtype name, case-sensitive ({@code "F32"}, {@code "F16"}, {@code "BF16"},
     *     {@code "I32"}, {@code "I64"})
     * @return the dtype of that name
     * @throws IllegalArgumentException when the name is none of these (F64, BOOL and others are not supported)
     */
    public static DType ofSafetensorsName(String name) {
        for (DType d : values()) {
            if (d.safetensorsName.equals(name)) {
                return d;
            }
        }
        throw new IllegalArgumentException("unsupported dtype \"" + name + "\" (supported: F32, F16, BF16, I32, I64)");
    }

    /**
     * Element {@code index} of {@code segment} as a float (integers are converted, possibly inexactly).
     *
     * @param segment host memory holding elements of this dtype
     * @param index the element's index (not a byte offset)
     * @return the element, widened or converted to float
     */
    public float getFloat(MemorySegment segment, long index) {
        return switch (this) {
            case F32 -> segment.getAtIndex(FLOAT, index);
            case F16 -> f16BitsToFloat(segment.getAtIndex(SHORT, index));
            case BF16 -> bf16BitsToFloat(segment.getAtIndex(SHORT, index));
            case I32 -> segment.getAtIndex(INT, index);
            case I64 -> segment.getAtIndex(LONG, index);
        };
    }

    /**
     * Stores {@code value} as element {@code index}, rounding to this dtype (integers truncate toward zero).
     *
     * @param segment host memory holding elements of this dtype
     * @param index the element's index (not a byte offset)
     * @param value the value to store
     */
    public void setFloat(MemorySegment segment, long index, float value) {
        switch (this) {
            case F32 -> segment.setAtIndex(FLOAT, index, value);
            case F16 -> segment.setAtIndex(SHORT, index, floatToF16Bits(value));
            case BF16 -> segment.setAtIndex(SHORT, index, floatToBf16Bits(value));
            case I32 -> segment.setAtIndex(INT, index, (int) value);
            case I64 -> segment.setAtIndex(LONG, index, (long) value);
        }
    }

    /**
     * Element {@code index} of an integer tensor.
     *
     * @param segment host memory holding elements of this dtype
     * @param index the element's index (not a byte offset)
     * @return the element, sign-extended
     * @throws IllegalArgumentException when this dtype is a floating-point one
     */
    public long getLong(MemorySegment segment, long index) {
        return switch (this) {
            case I32 -> segment.getAtIndex(INT, index);
            case I64 -> segment.getAtIndex(LONG, index);
            default -> throw new IllegalArgumentException("getLong on a " + this + " tensor: integers only");
        };
    }

    /**
     * Stores {@code value} as element {@code index} of an integer tensor (I32 requires it to fit).
     *
     * @param segment host memory holding elements of this dtype
     * @param index the element's index (not a byte offset)
     * @param value the value to store
     * @throws IllegalArgumentException when this dtype is a floating-point one, or it is I32 and {@code value} does not
     *     fit
     */
    public void setLong(MemorySegment segment, long index, long value) {
        switch (this) {
            case I32 -> {
                if (value != (int) value) {
                    throw new IllegalArgumentException(value + " does not fit in I32");
                }
                segment.setAtIndex(INT, index, (int) value);
            }
            case I64 -> segment.setAtIndex(LONG, index, value);
            default -> throw new IllegalArgumentException("setLong on a " + this + " tensor: integers only");
        }
    }

    // ---- conversions

    /**
     * binary16 bits to float (exact).
     *
     * @param bits the binary16 bit pattern
     * @return its value as a float
     */
    public static float f16BitsToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /**
     * float to binary16 bits, round to nearest even; NaN stays NaN, overflow goes to infinity.
     *
     * @param value the value to round
     * @return the nearest binary16, as its bit pattern
     */
    public static short floatToF16Bits(float value) {
        return Float.floatToFloat16(value);
    }

    /**
     * bfloat16 bits to float (exact: bfloat16 is the top half of a binary32).
     *
     * @param bits the bfloat16 bit pattern
     * @return its value as a float
     */
    public static float bf16BitsToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /**
     * float to bfloat16 bits, round to nearest even; NaN stays NaN (quiet, sign kept), overflow goes to infinity.
     *
     * @param value the value to round
     * @return the nearest bfloat16, as its bit pattern
     */
    public static short floatToBf16Bits(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) {
            // NaN: keep sign and the top payload bits, set the quiet bit so truncation cannot make it an infinity.
            return (short) ((bits >>> 16) | 0x0040);
        }
        // Add half an ulp of the result, plus one if the result's last bit is odd (ties go to even);
        // a carry out of the mantissa correctly bumps the exponent, and up to infinity on overflow.
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }
}
