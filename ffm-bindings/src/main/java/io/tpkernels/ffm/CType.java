package io.tpkernels.ffm;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * A C type as a header spells it, with the FFM layout that carries it across the call boundary.
 *
 * <p>Bindings are declared with these rather than bare layouts so that the same declaration yields the
 * {@link java.lang.foreign.FunctionDescriptor} used at run time and a C prototype that a test compiles
 * against the real header: a wrong spelling or a wrong width fails the build, not a user's process.
 *
 * @param spelling the C spelling, exactly as in the header ({@code "CUdeviceptr *"}, {@code "size_t"})
 * @param layout   the layout that carries it; {@code null} only for {@code void}
 */
public record CType(String spelling, MemoryLayout layout) {

    /** {@code void}, for return types only. */
    public static final CType VOID = new CType("void", null);
    /** {@code int}. */
    public static final CType INT = new CType("int", ValueLayout.JAVA_INT);
    /** {@code unsigned int}. */
    public static final CType UINT = new CType("unsigned int", ValueLayout.JAVA_INT);
    /** {@code unsigned char}. */
    public static final CType UCHAR = new CType("unsigned char", ValueLayout.JAVA_BYTE);
    /** {@code size_t}. */
    public static final CType SIZE_T = new CType("size_t", ValueLayout.JAVA_LONG);
    /** {@code const char *}. */
    public static final CType CONST_CHAR_PTR = pointer("const char *");
    /** {@code char *}. */
    public static final CType CHAR_PTR = pointer("char *");
    /** {@code const void *}. */
    public static final CType CONST_VOID_PTR = pointer("const void *");
    /** {@code void *}. */
    public static final CType VOID_PTR = pointer("void *");

    /**
     * Checks the spelling.
     *
     * @param spelling the C spelling
     * @param layout the layout, {@code null} for {@code void}
     * @throws NullPointerException when the spelling is {@code null}
     */
    public CType {
        Objects.requireNonNull(spelling, "spelling");
    }

    /**
     * A pointer type (or an opaque handle that is a pointer, such as {@code CUstream}).
     *
     * @param spelling the C spelling
     * @return the type, carried as an address
     */
    public static CType pointer(String spelling) {
        return new CType(spelling, ValueLayout.ADDRESS);
    }

    /**
     * A 32-bit integer type or enum under its C name ({@code CUresult}, {@code CUdevice}).
     *
     * @param spelling the C spelling
     * @return the type, carried as a Java {@code int}
     */
    public static CType int32(String spelling) {
        return new CType(spelling, ValueLayout.JAVA_INT);
    }

    /**
     * A 64-bit integer type under its C name ({@code CUdeviceptr}).
     *
     * @param spelling the C spelling
     * @return the type, carried as a Java {@code long}
     */
    public static CType int64(String spelling) {
        return new CType(spelling, ValueLayout.JAVA_LONG);
    }

    /**
     * Whether this is {@code void}.
     *
     * @return {@code true} for {@link #VOID}
     */
    public boolean isVoid() {
        return layout == null;
    }

    @Override
    public String toString() {
        return spelling;
    }
}
