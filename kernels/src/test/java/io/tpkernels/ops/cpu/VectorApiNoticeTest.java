package io.tpkernels.ops.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.testing.RecordingLogger;
import java.lang.System.Logger.Level;
import java.lang.reflect.InvocationTargetException;
import org.junit.jupiter.api.Test;

/**
 * What is said when the CPU GEMM runs its scalar kernels. The test JVMs have the Vector API, so the decision is
 * tested for a JVM without it rather than by starting one.
 */
class VectorApiNoticeTest {

    @Test
    void withoutTheModuleItWarnsAndSaysHowToAddIt() {
        VectorApiNotice.Message m = VectorApiNotice.scalar(false, null);
        assertEquals(Level.WARNING, m.level());
        assertTrue(m.text().contains("--add-modules jdk.incubator.vector") && m.text().contains("slower"), m.text());
    }

    @Test
    void kernelsRefusedWithTheModuleAreReportedWithTheirReasonQuietly() {
        var refused = new InvocationTargetException(
                new IllegalStateException("vectors of 128 bits: the scalar kernels are as fast"));
        VectorApiNotice.Message m = VectorApiNotice.scalar(true, refused);
        assertEquals(Level.INFO, m.level());
        assertTrue(m.text().endsWith("vectors of 128 bits: the scalar kernels are as fast"), m.text());
    }

    @Test
    void saysItOnceForBothKernelFamilies() {
        RecordingLogger logger = new RecordingLogger();
        VectorApiNotice notice = new VectorApiNotice(logger);
        notice.tellScalar(false, null); // DotKernels
        notice.tellScalar(false, null); // RowKernels
        assertEquals(1, logger.entries().size(), logger.entries().toString());
        assertEquals(VectorApiNotice.scalar(false, null).text(), logger.entries().get(0).message());
    }

    @Test
    void thisJvmHasTheVectorApiAndSaysNothing() {
        DotKernels.best();
        RowKernels.best();
        assertTrue(VectorApiNotice.moduleLoaded(), "the tests run with --add-modules jdk.incubator.vector");
        assertEquals(!DotKernels.best().describe().startsWith("Vector API"), VectorApiNotice.JVM.told(),
                DotKernels.best().describe());
    }
}
