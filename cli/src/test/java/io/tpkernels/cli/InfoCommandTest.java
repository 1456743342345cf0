package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.ffm.cuda.CudaDriver;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class InfoCommandTest {

    private static String run(String... args) {
        CommandLine cl = Tpk.commandLine();
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out));
        assertEquals(0, cl.execute(args));
        return out.toString();
    }

    @Test
    void reportsTheJdkTheBackendsAndEveryNativeLibrary() {
        String out = run("info");
        assertTrue(out.contains("version      " + Runtime.version()), out);
        assertTrue(out.contains(Runtime.getRuntime().availableProcessors() + " cores"), out);
        for (String lib : new String[] {"CUDA driver", "NVRTC", "cuBLAS", "cuBLASLt", "NCCL"}) {
            assertTrue(out.contains("\n  " + lib), lib + " listed in:\n" + out);
        }
        if (CudaDriver.isAvailable()) {
            assertTrue(out.contains("driver API"), out);
        } else {
            assertTrue(out.contains("no GPU was found"), out);
        }
    }

    @Test
    void withoutASubcommandItPrintsUsage() {
        assertTrue(run().contains("info"));
    }

    @Test
    void versionComesFromTheBuild() {
        assertTrue(run("--version").strip().matches("tpkernels \\d+\\.\\d+\\.\\d+.*"), run("--version"));
    }
}
