package io.tpkernels.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tpkernels.testing.RecordingLogger;
import java.lang.System.Logger.Level;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The reason no GPU is used is logged once however often the devices are counted. */
class NoGpuNoticeTest {

    @Test
    void logsOnceWithTheReason() {
        RecordingLogger logger = new RecordingLogger();
        NoGpuNotice notice = new NoGpuNotice(logger);
        GpuAbsence absence = new GpuAbsence(GpuAbsence.NO_DRIVER, Level.INFO);
        notice.tell(absence);
        notice.tell(absence);
        notice.tell(new GpuAbsence("another reason", Level.WARNING));
        assertEquals(List.of(new RecordingLogger.Entry(Level.INFO, "no GPU can be used: " + GpuAbsence.NO_DRIVER)),
                logger.entries());
    }
}
