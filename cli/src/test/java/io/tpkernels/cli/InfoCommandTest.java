package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.PtxLibrary;
import io.tpkernels.runtime.Tuning;
import io.tpkernels.testing.GpuTest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.regex.Pattern;
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
            assertTrue(out.contains("no GPU can be used: " + CudaDevice.unavailableReason().orElseThrow()), out);
        }
    }

    @Test
    @GpuTest
    void eachDeviceSaysWhichCodeItsKernelsTryFirst() {
        String out = run("info");
        int cc = CudaDevice.of(0).computeCapability();
        PtxLibrary.Choice cast = PtxLibrary.packaged().choices("cast", cc, Tuning.PtxSource.PACKAGED).get(0);
        String expected = switch (cast.form()) {
            case CUBIN -> cast.arch() + " cubin (";
            case PTX -> cast.arch() + " PTX (";
            case NVRTC -> "NVRTC for " + cast.arch() + " (";
        };
        Pattern line = Pattern.compile("kernels tried first from .*" + Pattern.quote(expected) + "[a-z0-9_ ]*\\bcast\\b");
        assertTrue(line.matcher(out).find(), "cast from " + expected + " in:\n" + out);
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
