package io.tpkernels.runtime;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class KernelArgsTest {

    private static MemorySegment block(Arena arena) {
        return arena.allocate(KernelArgs.BLOCK_BYTES, KernelArgs.BLOCK_ALIGNMENT);
    }

    @Test
    void eachPointerEntryPointsAtItsValue() {
        KernelArgs a = KernelArgs.begin().ptr(0x7f00_1234_5678L).i32(-5).i64(1L << 40).f32(2.5f);
        assertEquals(4, a.count());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment array = a.marshal(block(arena));
            MemorySegment p0 = array.getAtIndex(ADDRESS, 0).reinterpret(8);
            MemorySegment p1 = array.getAtIndex(ADDRESS, 1).reinterpret(8);
            MemorySegment p2 = array.getAtIndex(ADDRESS, 2).reinterpret(8);
            MemorySegment p3 = array.getAtIndex(ADDRESS, 3).reinterpret(8);
            assertEquals(0x7f00_1234_5678L, p0.get(JAVA_LONG, 0));
            assertEquals(-5, p1.get(JAVA_INT, 0));
            assertEquals(1L << 40, p2.get(JAVA_LONG, 0));
            assertEquals(2.5f, p3.get(JAVA_FLOAT, 0));
        }
    }

    @Test
    void eachLaunchHasItsOwnListAndOneBlockServesThemInTurn() {
        KernelArgs first = KernelArgs.begin().i64(1).i64(7);
        KernelArgs second = KernelArgs.begin().i64(2);
        assertNotSame(first, second);
        assertEquals(2, first.count());
        assertEquals(1, second.count());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment block = block(arena);
            first.marshal(block);
            MemorySegment array = second.marshal(block);
            assertEquals(2L, array.getAtIndex(ADDRESS, 0).reinterpret(8).get(JAVA_LONG, 0));
            assertEquals(block.address(), array.getAtIndex(ADDRESS, 0).address(), "values start the block");
        }
    }

    @Test
    void eachSlotHoldsItsValueInItsFirstBytes() {
        KernelArgs a = KernelArgs.begin().ptr(0x7f00_1234_5678L).i32(-5).f32(2.5f);
        assertEquals(0x7f00_1234_5678L, a.slot(0));
        assertEquals(-5, (int) a.slot(1));
        assertEquals(0, a.slot(1) >>> 32, "a 4-byte value's slot is zero above it");
        assertEquals(2.5f, Float.intBitsToFloat((int) a.slot(2)));
        assertEquals(-0.1, Double.longBitsToDouble(KernelArgs.begin().f64(-0.1).slot(0)), "a double fills its slot");
        assertThrows(IllegalArgumentException.class, () -> a.slot(3));
        assertThrows(IllegalArgumentException.class, () -> a.slot(-1));
    }

    @Test
    void tooManyParametersIsAnError() {
        KernelArgs a = KernelArgs.begin();
        for (int i = 0; i < KernelArgs.MAX; i++) {
            a.i32(i);
        }
        assertThrows(IllegalStateException.class, () -> a.i32(99));
    }

    @Test
    void aStructIsCopiedAtItsAlignmentAfterTheScalars() {
        byte[] map = new byte[128];
        for (int i = 0; i < map.length; i++) {
            map[i] = (byte) (i * 7 + 1);
        }
        KernelArgs a = KernelArgs.begin().ptr(0x1000).i32(3).struct(map, 64).f32(1.5f);
        assertEquals(4, a.count());
        assertArrayEquals(map, a.bytes(2));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment array = a.marshal(block(arena));
            MemorySegment p2 = array.getAtIndex(ADDRESS, 2);
            assertEquals(0, p2.address() % 64, "the struct's slot is 64-byte aligned");
            assertArrayEquals(map, p2.reinterpret(128).toArray(JAVA_BYTE));
            MemorySegment p3 = array.getAtIndex(ADDRESS, 3).reinterpret(4);
            assertEquals(1.5f, p3.get(JAVA_FLOAT, 0));
            assertEquals(p2.address() + 128, p3.address(), "the next scalar follows the struct");
        }
        assertEquals(0x1000L, a.slot(0));
    }

    @Test
    void parametersOverTheDriversByteLimitAreAnError() {
        KernelArgs a = KernelArgs.begin();
        byte[] big = new byte[1024];
        for (int i = 0; i < KernelArgs.MAX_BYTES / 1024; i++) {
            a.struct(big, 64);
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.i32(1));
        assertTrue(e.getMessage().contains("bytes"), e.getMessage());
    }
}
