package io.tpkernels.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.tpkernels.testing.GpuTest;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** A tensor map is encoded by the driver once per description; later requests copy it, byte for byte. */
@GpuTest
class TensorMapsCudaTest {

    @Test
    void theSameDescriptionIsEncodedOnceAndCopiedAfterwards() {
        CudaDevice device = CudaDevice.of(0);
        device.makeCurrent();
        try (Tensor w = Tensor.allocate(device.device(), DType.BF16, 300, 512);
             Tensor other = Tensor.allocate(device.device(), DType.BF16, 300, 512)) {
            long before = TensorMaps.encodes();
            byte[] first = TensorMaps.rowMajorSwizzled128(device, DType.BF16, w.devicePointer(), 300, 512, 128, 64);
            assertEquals(before + 1, TensorMaps.encodes(), "a new description is encoded by the driver");
            assertEquals(TensorMaps.BYTES, first.length);
            byte[] again = TensorMaps.rowMajorSwizzled128(device, DType.BF16, w.devicePointer(), 300, 512, 128, 64);
            assertEquals(before + 1, TensorMaps.encodes(), "the same description again is a copy");
            assertArrayEquals(first, again);
            byte[] elsewhere = TensorMaps.rowMajorSwizzled128(device, DType.BF16, other.devicePointer(), 300, 512,
                    128, 64);
            assertEquals(before + 2, TensorMaps.encodes(), "another address is another map");
            assertFalse(Arrays.equals(first, elsewhere));
        }
    }
}
