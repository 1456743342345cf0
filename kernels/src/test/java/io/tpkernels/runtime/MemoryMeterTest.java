package io.tpkernels.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The meter charges this thread's allocations, credits frees from any thread, and ignores views. */
class MemoryMeterTest {

    @Test
    void countsLiveAndPeakBytesOfThisThreadOnly() throws Exception {
        try (MemoryMeter meter = MemoryMeter.start()) {
            Tensor a = Tensor.allocate(Device.CPU, DType.F32, 10, 10);
            Tensor b = Tensor.allocate(Device.CPU, DType.BF16, 7);
            assertEquals(400 + 14, meter.liveBytes(Device.CPU));
            a.close();
            assertEquals(14, meter.liveBytes(Device.CPU));
            Thread other = new Thread(() -> Tensor.allocate(Device.CPU, DType.F32, 1000).close());
            other.start();
            other.join();
            Tensor view = b.rows(0, 3);
            view.close();
            Thread closer = new Thread(b::close); // freed elsewhere: still credited
            closer.start();
            closer.join();
            assertEquals(0, meter.liveBytes(Device.CPU));
            assertEquals(414, meter.peakBytes(Device.CPU));
        }
    }

    @Test
    void nestedMetersHideTheOuterOneUntilClosed() {
        try (MemoryMeter outer = MemoryMeter.start()) {
            try (MemoryMeter inner = MemoryMeter.start(); Tensor t = Tensor.allocate(Device.CPU, DType.I64, 8)) {
                assertEquals(64, inner.peakBytes(Device.CPU));
            }
            assertEquals(0, outer.peakBytes(Device.CPU));
            try (Tensor t = Tensor.allocate(Device.CPU, DType.I32, 8)) {
                assertEquals(32, outer.liveBytes(Device.CPU));
            }
        }
    }
}
