package io.tpkernels.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.RandomData;
import org.junit.jupiter.api.Test;

/**
 * Wrapped device memory is a view: closing the wrapper (or a tensor over it) frees nothing, and the wrapper itself
 * refuses use after its close. A {@link CudaDevice} exists only with a driver, so these run on a GPU.
 */
@GpuTest
class DeviceBufferWrapTest {

    private final CudaDevice device = CudaDevice.of(0);

    @Test
    void closingTheWrapperLeavesTheOwnersMemoryAlive() {
        float[] values = RandomData.floats(11, 1000);
        try (Tensor owner = Tensor.ofFloats(DType.F32, values, 1000).copyTo(device.device())) {
            DeviceBuffer wrapped = DeviceBuffer.wrap(device, owner.devicePointer(), owner.byteSize());
            try (Tensor view = Tensor.view(wrapped, 0, DType.F32, 1000)) {
                assertArrayEquals(values, view.toFloatArray());
            }
            wrapped.close();
            wrapped.close();
            assertFalse(wrapped.isOpen());
            var e = assertThrows(IllegalStateException.class, wrapped::pointer);
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            // Had the wrapper freed the memory, the owner's copy would fail or read garbage.
            assertArrayEquals(values, owner.toFloatArray());
        }
    }

    @Test
    void writesThroughTheWrapperAreSeenByTheOwner() {
        float[] values = RandomData.floats(12, 256);
        try (Tensor owner = Tensor.allocate(device.device(), DType.F32, 512);
             Tensor source = Tensor.ofFloats(DType.F32, values, 256)) {
            // The second half of the owner's memory, wrapped at an offset pointer.
            DeviceBuffer half = DeviceBuffer.wrap(device, owner.devicePointer() + 256 * 4, 256 * 4);
            Tensor.view(half, 0, DType.F32, 256).copyFrom(source);
            assertArrayEquals(values, owner.rows(256, 512).toFloatArray());
            assertEquals(device.device(), half.device());
            assertEquals(256 * 4, half.byteSize());
        }
    }

    @Test
    void aNullPointerOrNegativeSizeIsRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> DeviceBuffer.wrap(device, 0, 16));
        assertTrue(e.getMessage().contains("0x0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DeviceBuffer.wrap(device, 0x7f00_0000_0000L, -1));
    }
}
