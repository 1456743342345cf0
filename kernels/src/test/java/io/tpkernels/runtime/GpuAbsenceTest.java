package io.tpkernels.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tpkernels.ffm.cuda.CudaDriver;
import java.lang.System.Logger.Level;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Why no GPU is used: one sentence, quiet for a CPU machine, a warning for a driver that cannot be used. */
class GpuAbsenceTest {

    @Test
    void aMachineWithoutTheDriverIsToldSoQuietly() {
        GpuAbsence absence = GpuAbsence.of(true, Optional.of("long search report"), () -> {
            throw new AssertionError("no devices are counted without a driver");
        }).orElseThrow();
        assertTrue(absence.reason().contains("libcuda.so.1"), absence.reason());
        assertEquals(Level.INFO, absence.level());
    }

    @Test
    void aDriverThatCannotBeUsedWarnsWithItsReason() {
        String denied = "native access is not enabled for module io.tpkernels.ffm: start the JVM with"
                + " --enable-native-access=io.tpkernels.ffm";
        GpuAbsence absence = GpuAbsence.of(false, Optional.of(denied), () -> 0).orElseThrow();
        assertEquals(denied, absence.reason());
        assertEquals(Level.WARNING, absence.level());
    }

    @Test
    void aDriverWithoutDevicesSaysSo() {
        GpuAbsence absence = GpuAbsence.of(false, Optional.empty(), () -> 0).orElseThrow();
        assertEquals(GpuAbsence.NO_DEVICE, absence.reason());
        assertEquals(Level.INFO, absence.level());
    }

    @Test
    void aDeviceMeansNoReason() {
        assertEquals(Optional.empty(), GpuAbsence.of(false, Optional.empty(), () -> 2));
    }

    @Test
    void withoutTheDriverHereTheApiNamesItAndCountLogsIt() {
        assumeTrue(!CudaDriver.library().isLoaded(), "a CUDA driver is loaded here");
        String reason = CudaDevice.unavailableReason().orElseThrow();
        assertTrue(reason.contains("libcuda.so.1"), reason);
        assertEquals(0, CudaDevice.count());
        assertTrue(NoGpuNotice.JVM.told(), "count() found no GPU and did not say why");
    }
}
