package io.tpkernels.jcuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import jcuda.driver.CUdeviceptr;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/** Addresses through JCuda's pointer objects and back: pure Java on JCuda's side, so no driver is needed. */
class JcudaPointersTest {

    @Property
    void anAddressSurvivesTheRoundTrip(@ForAll long address) {
        Assume.that(address != 0);
        assertEquals(address, JcudaPointers.address(JcudaPointers.toCUdeviceptr(address)));
    }

    @Property
    void jcudaOffsetsAddToTheAddress(@ForAll @LongRange(min = 1, max = 1L << 48) long address,
                                     @ForAll @LongRange(min = 0, max = 1L << 40) long offset) {
        CUdeviceptr p = JcudaPointers.toCUdeviceptr(address).withByteOffset(offset);
        assertEquals(address + offset, JcudaPointers.address(p));
    }

    @Test
    void aPointerThatWasNeverAllocatedIsRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> JcudaPointers.address(new CUdeviceptr()));
        assertTrue(e.getMessage().contains("never allocated"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> JcudaPointers.toCUdeviceptr(0));
    }

    @Test
    void aHostTensorHasNoDevicePointer() {
        try (Tensor host = Tensor.ofFloats(DType.F32, new float[] {1.5f, -2.25f}, 2)) {
            var e = assertThrows(IllegalStateException.class, () -> JcudaPointers.of(host));
            assertTrue(e.getMessage().contains("not in device memory"), e.getMessage());
        }
    }
}
