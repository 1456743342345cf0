package io.tpkernels.runtime;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class KernelArgsTest {

    @Test
    void eachPointerEntryPointsAtItsValue() {
        KernelArgs a = KernelArgs.begin().ptr(0x7f00_1234_5678L).i32(-5).i64(1L << 40).f32(2.5f);
        assertEquals(4, a.count());
        MemorySegment array = a.pointerArray();
        MemorySegment p0 = array.getAtIndex(ADDRESS, 0).reinterpret(8);
        MemorySegment p1 = array.getAtIndex(ADDRESS, 1).reinterpret(8);
        MemorySegment p2 = array.getAtIndex(ADDRESS, 2).reinterpret(8);
        MemorySegment p3 = array.getAtIndex(ADDRESS, 3).reinterpret(8);
        assertEquals(0x7f00_1234_5678L, p0.get(JAVA_LONG, 0));
        assertEquals(-5, p1.get(JAVA_INT, 0));
        assertEquals(1L << 40, p2.get(JAVA_LONG, 0));
        assertEquals(2.5f, p3.get(JAVA_FLOAT, 0));
    }

    @Test
    void theBufferIsReusedNotReallocated() {
        KernelArgs first = KernelArgs.begin().i64(1);
        KernelArgs second = KernelArgs.begin().i64(2);
        assertSame(first, second);
        assertEquals(1, second.count());
        assertEquals(2L, second.slot(0));
        assertEquals(first.pointerArray().address(), second.pointerArray().address());
    }

    @Test
    void eachSlotHoldsItsValueInItsFirstBytes() {
        KernelArgs.begin().i64(-1L).i64(-1L).i64(-1L);
        // Reused slots keep stale high bytes under a 4-byte value: the driver reads only the low 4.
        KernelArgs a = KernelArgs.begin().ptr(0x7f00_1234_5678L).i32(-5).f32(2.5f);
        assertEquals(0x7f00_1234_5678L, a.slot(0));
        assertEquals(-5, (int) a.slot(1));
        assertEquals(2.5f, Float.intBitsToFloat((int) a.slot(2)));
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
        KernelArgs a = KernelArgs.begin().ptr(0x1000).i32(3).struct(MemorySegment.ofArray(map), 64).f32(1.5f);
        assertEquals(4, a.count());
        MemorySegment p2 = a.pointerArray().getAtIndex(ADDRESS, 2);
        assertEquals(0, p2.address() % 64, "the struct's slot is 64-byte aligned");
        org.junit.jupiter.api.Assertions.assertArrayEquals(map, p2.reinterpret(128).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        org.junit.jupiter.api.Assertions.assertArrayEquals(map, a.bytes(2));
        MemorySegment p3 = a.pointerArray().getAtIndex(ADDRESS, 3).reinterpret(4);
        assertEquals(1.5f, p3.get(JAVA_FLOAT, 0));
        assertEquals(p2.address() + 128, p3.address(), "the next scalar follows the struct");
        assertEquals(0x1000L, a.slot(0));
    }

    @Test
    void parametersOverTheDriversByteLimitAreAnError() {
        KernelArgs a = KernelArgs.begin();
        MemorySegment big = MemorySegment.ofArray(new byte[1024]);
        for (int i = 0; i < KernelArgs.MAX_BYTES / 1024; i++) {
            a.struct(big, 64);
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.i32(1));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("bytes"), e.getMessage());
    }
}
