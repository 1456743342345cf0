package io.tpkernels.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tpkernels.ffm.cuda.CudaDriver;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class TensorTest {

    @Test
    void allocatesZeroedHostMemoryWithShapeAndSize() {
        try (Tensor t = Tensor.allocate(Device.CPU, DType.BF16, 3, 5)) {
            assertArrayEquals(new long[] {3, 5}, t.shape());
            assertEquals(15, t.numel());
            assertEquals(30, t.byteSize());
            assertEquals(5, t.dim(-1));
            for (float v : t.toFloatArray()) {
                assertEquals(0f, v);
            }
        }
    }

    @Test
    void rejectsBadShapesNamingThem() {
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.allocate(Device.CPU, DType.F32, 2, -1));
        assertTrue(e.getMessage().contains("[2, -1]"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Tensor.allocate(Device.CPU, DType.F32, Long.MAX_VALUE, 4));
        var count = assertThrows(IllegalArgumentException.class,
                () -> Tensor.ofFloats(DType.F32, new float[5], 2, 3));
        assertTrue(count.getMessage().contains("5 values"), count.getMessage());
    }

    @Test
    void rowViewsShareMemoryWithoutCopying() {
        try (Tensor t = Tensor.ofFloats(DType.F32, new float[] {0, 1, 2, 3, 4, 5, 6, 7}, 4, 2)) {
            Tensor middle = t.rows(1, 3);
            assertArrayEquals(new long[] {2, 2}, middle.shape());
            assertArrayEquals(new float[] {2, 3, 4, 5}, middle.toFloatArray());
            DType.F32.setFloat(middle.hostSegment(), 0, 42f);
            assertEquals(42f, t.toFloatArray()[2], "a write through the view lands in the parent");
            middle.close();
            assertTrue(t.isOpen(), "closing a view frees nothing");
            assertEquals(0, t.rows(4, 4).numel());
        }
    }

    @Test
    void rowRangeOutsideTheTensorIsAnError() {
        try (Tensor t = Tensor.allocate(Device.CPU, DType.F32, 4, 2)) {
            var e = assertThrows(IllegalArgumentException.class, () -> t.rows(3, 5));
            assertTrue(e.getMessage().contains("rows [3, 5)") && e.getMessage().contains("[4, 2]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> t.rows(-1, 2));
            assertThrows(IllegalArgumentException.class, () -> t.rows(2, 1));
        }
    }

    @Test
    void useAfterCloseIsAnIllegalStateNotACrash() {
        Tensor t = Tensor.allocate(Device.CPU, DType.F32, 4);
        Tensor view = t.rows(1, 2);
        t.close();
        t.close(); // twice is harmless
        assertFalse(t.isOpen());
        var e = assertThrows(IllegalStateException.class, t::hostSegment);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, view::toFloatArray);
        assertThrows(IllegalStateException.class, () -> t.rows(0, 1));
    }

    @Test
    void copiesBetweenHostTensorsCheckShapeAndDtype() {
        try (Tensor a = Tensor.ofFloats(DType.F16, new float[] {1, 2, 3, 4}, 2, 2);
             Tensor b = a.copyTo(Device.CPU);
             Tensor wrong = Tensor.allocate(Device.CPU, DType.F16, 4)) {
            assertArrayEquals(a.toFloatArray(), b.toFloatArray());
            var e = assertThrows(IllegalArgumentException.class, () -> wrong.copyFrom(a));
            assertTrue(e.getMessage().contains("[2, 2]") && e.getMessage().contains("[4]"), e.getMessage());
            assertArrayEquals(new long[] {4}, a.reshape(4).shape());
            assertThrows(IllegalArgumentException.class, () -> a.reshape(3));
        }
    }

    @Test
    void wrappedMemoryIsNotFreedByTheTensor() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(16);
            s.setAtIndex(ValueLayout.JAVA_FLOAT, 3, 7f);
            Tensor t = Tensor.wrap(s, DType.F32, 4);
            assertEquals(7f, t.toFloatArray()[3]);
            t.close();
            assertEquals(7f, s.getAtIndex(ValueLayout.JAVA_FLOAT, 3), "still readable: the arena owns it");
        }
    }

    @Test
    void cudaTensorsWithoutADriverFailWithTheReason() {
        assumeTrue(!CudaDriver.isAvailable(), "a CUDA driver is present: covered by the GPU tests");
        var e = assertThrows(IllegalStateException.class, () -> Tensor.allocate(Device.cuda(0), DType.F32, 4));
        assertTrue(e.getMessage().contains("CUDA is not available") && e.getMessage().contains("libcuda.so.1"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Device.cuda(-1));
    }
}
