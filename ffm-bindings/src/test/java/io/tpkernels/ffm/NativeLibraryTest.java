package io.tpkernels.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Loading and binding against the C library, which every Linux machine has. */
class NativeLibraryTest {

    private static final LibraryName LIBC = new LibraryName("C library", List.of("libc.so.6"));
    private static final CFunction STRLEN = CFunction.of("strlen", CType.SIZE_T, CType.CONST_CHAR_PTR);

    @Test
    void bindsAndCallsARealFunction() throws Throwable {
        NativeLibrary libc = NativeLibrary.load(LIBC);
        assertTrue(libc.isLoaded(), libc.toString());
        MethodHandle strlen = libc.downcall(STRLEN);
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(11L, (long) strlen.invokeExact(arena.allocateFrom("tpkernels!!")));
        }
    }

    @Test
    void aMissingSymbolBecomesAHandleThatThrowsWithTheName() {
        MethodHandle h = NativeLibrary.load(LIBC).downcall(CFunction.of("tpk_no_such_symbol", CType.INT, CType.INT));
        var e = assertThrows(NativeLibraryUnavailableException.class, () -> {
            int ignored = (int) h.invokeExact(1);
        });
        assertTrue(e.getMessage().contains("tpk_no_such_symbol"), e.getMessage());
    }

    @Test
    void aFallbackNameIsUsedWhenTheNewestSymbolIsMissing() throws Throwable {
        CFunction f = CFunction.of("strlen_v9", CType.SIZE_T, CType.CONST_CHAR_PTR).orOlder("strlen");
        MethodHandle h = NativeLibrary.load(LIBC).downcall(f);
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(3L, (long) h.invokeExact(arena.allocateFrom("abc")));
        }
    }

    @Test
    void anUnavailableLibraryGivesHandlesOfTheRightTypeThatThrowTheReason() {
        NativeLibrary none = NativeLibrary.unavailable(LIBC, "libc was hidden for this test");
        MethodHandle h = none.downcall(STRLEN);
        assertEquals(STRLEN.descriptor().toMethodType(), h.type());
        var e = assertThrows(NativeLibraryUnavailableException.class, () -> {
            long ignored = (long) h.invokeExact(MemorySegment.NULL);
        });
        assertTrue(e.getMessage().contains("libc was hidden for this test") && e.getMessage().contains("strlen"),
                e.getMessage());
    }

    @Test
    void aPrototypeRendersAsC() {
        assertEquals("size_t strlen(const char *)", STRLEN.toString());
        assertEquals("int (*p)(void)", CFunction.of("f", CType.INT).cPrototype("p"));
    }
}
