package io.tpkernels.runtime;

import io.tpkernels.testing.GpuTest;
import org.junit.jupiter.api.Test;

/** {@link TensorCloseRace} on a device: copies to and from device memory that another thread frees. */
@GpuTest
class TensorCloseRaceCudaTest {
    @Test
    void copiesRacingCloseOnTheDeviceEndWholeOrAsUseAfterClose() throws Exception {
        TensorCloseRace.run(Device.cuda(0), 2000);
    }
}
