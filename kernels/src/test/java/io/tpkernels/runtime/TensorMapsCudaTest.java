package io.tpkernels.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.tpkernels.testing.GpuTest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** A tensor map is encoded by the driver once per description; later requests copy it, byte for byte. */
@GpuTest
class TensorMapsCudaTest {

    @Test
    void theSameDescriptionIsEncodedOnceAndCopiedAfterwards() {
        CudaDevice device = CudaDevice.of(0);
        device.makeCurrent();
        try (Arena arena = Arena.ofConfined(); Tensor w = Tensor.allocate(device.device(), DType.BF16, 300, 512);
             Tensor other = Tensor.allocate(device.device(), DType.BF16, 300, 512)) {
            MemorySegment first = arena.allocate(TensorMaps.BYTES, TensorMaps.ALIGNMENT);
            MemorySegment again = arena.allocate(TensorMaps.BYTES, TensorMaps.ALIGNMENT);
            MemorySegment elsewhere = arena.allocate(TensorMaps.BYTES, TensorMaps.ALIGNMENT);
            long before = TensorMaps.encodes();
            TensorMaps.rowMajorSwizzled128(first, DType.BF16, w.devicePointer(), 300, 512, 128, 64);
            assertEquals(before + 1, TensorMaps.encodes(), "a new description is encoded by the driver");
            TensorMaps.rowMajorSwizzled128(again, DType.BF16, w.devicePointer(), 300, 512, 128, 64);
            assertEquals(before + 1, TensorMaps.encodes(), "the same description again is a copy");
            assertArrayEquals(first.toArray(ValueLayout.JAVA_BYTE), again.toArray(ValueLayout.JAVA_BYTE));
            TensorMaps.rowMajorSwizzled128(elsewhere, DType.BF16, other.devicePointer(), 300, 512, 128, 64);
            assertEquals(before + 2, TensorMaps.encodes(), "another address is another map");
            assertFalse(Arrays.equals(first.toArray(ValueLayout.JAVA_BYTE), elsewhere.toArray(ValueLayout.JAVA_BYTE)));
        }
    }
}
