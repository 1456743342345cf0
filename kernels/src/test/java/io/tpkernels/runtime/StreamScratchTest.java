package io.tpkernels.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.testing.GpuTest;
import org.junit.jupiter.api.Test;

/**
 * {@link CudaStream#scratch()}: one per stream handle (every legacy-default object shares one), zero when first
 * handed out, freed with its stream.
 */
@GpuTest
class StreamScratchTest {

    private final CudaDevice device = CudaDevice.of(0);

    @Test
    void theLegacyDefaultStreamsObjectsShareOneScratch() {
        DeviceBuffer a = CudaStream.legacyDefault(device).scratch();
        DeviceBuffer b = CudaStream.legacyDefault(device).scratch();
        assertSame(a, b);
        assertEquals(CudaStream.SCRATCH_BYTES, a.byteSize());
    }

    @Test
    void aStreamOfItsOwnHasItsOwnZeroedScratchFreedWithIt() {
        DeviceBuffer scratch;
        try (CudaStream stream = CudaStream.create(device)) {
            scratch = stream.scratch();
            assertNotEquals(CudaStream.legacyDefault(device).scratch().pointer(), scratch.pointer());
            assertSame(scratch, stream.scratch());
            stream.synchronize(); // the zeroing was queued on the stream
            try (Tensor view = Tensor.view(scratch, 0, DType.I32, CudaStream.SCRATCH_BYTES / 4);
                 Tensor host = view.copyTo(io.tpkernels.runtime.Device.CPU)) {
                for (long i = 0; i < view.numel(); i++) {
                    assertEquals(0, DType.I32.getLong(host.hostSegment(), i), "word " + i);
                }
            }
            assertTrue(scratch.isOpen());
        }
        assertFalse(scratch.isOpen());
    }
}
