package io.tpkernels.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernel build script {@code cuda-src/build-ptx.sh}, driven with a stand-in nvcc and ptxas so that the
 * spill check, the check of the declared kernel names, the per-file architectures and the no-nvcc path are
 * exercised the same way on every machine.
 */
class BuildPtxScriptTest {

    private static final Path SCRIPT = Path.of("..", "cuda-src", "build-ptx.sh").toAbsolutePath().normalize();

    @TempDir
    Path tmp;
    private Path src;
    private Path tools;

    /** A stand-in ptxas: reports 8 bytes of spills for kernels whose name contains "spill", none otherwise. */
    private static final String FAKE_PTXAS = """
            #!/usr/bin/env bash
            echo "$@" >> "$(dirname "$0")/ptxas-calls.txt"
            ptx=""; for a in "$@"; do case $a in *.ptx) ptx=$a;; esac; done
            for k in $(sed -n 's/^.entry \\([A-Za-z0-9_]*\\).*/\\1/p' "$ptx"); do
              echo "ptxas info    : Compiling entry function '$k' for 'sm_xx'" >&2
              echo "ptxas info    : Function properties for $k" >&2
              case $k in *spill*) n=8;; *) n=0;; esac
              echo "    0 bytes stack frame, $n bytes spill stores, $n bytes spill loads" >&2
              echo "ptxas info    : Used 40 registers" >&2
            done
            """;

    /** A stand-in nvcc: "compiles" by copying each `extern "C" __global__ void NAME` into a .entry line. */
    private static final String FAKE_NVCC = """
            #!/usr/bin/env bash
            case "$1" in --version) echo "fake nvcc"; exit 0;; esac
            out=""; in=""; prev=""
            for a in "$@"; do [ "$prev" = -o ] && out=$a; case $a in *.cu) in=$a;; esac; prev=$a; done
            sed -n 's/.*__global__ void \\([A-Za-z0-9_]*\\).*/.entry \\1/p' "$in" > "$out"
            """;

    @BeforeEach
    void setUp() throws IOException {
        src = Files.createDirectories(tmp.resolve("src"));
        tools = Files.createDirectories(tmp.resolve("tools"));
        executable(tools.resolve("nvcc"), FAKE_NVCC);
        executable(tools.resolve("ptxas"), FAKE_PTXAS);
    }

    private static void executable(Path p, String text) throws IOException {
        Files.writeString(p, text);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private record Result(int exit, String output) {
    }

    private Result build(Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", SCRIPT.toString(), src.toString(), tmp.resolve("out").toString(),
                tmp.resolve("report.txt").toString()).redirectErrorStream(true);
        pb.environment().put("TPK_NVCC", tools.resolve("nvcc").toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Result(p.exitValue(), out);
    }

    @Test
    void aKernelThatSpillsFailsTheBuildNamingIt() throws Exception {
        Files.writeString(src.resolve("k.cu"), """
                // tpk-kernels: tpk_fine tpk_spills_a_lot
                extern "C" __global__ void tpk_fine(float* x) {}
                extern "C" __global__ void tpk_spills_a_lot(float* x) {}
                """);
        Result r = build(Map.of());
        assertNotEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("kernel tpk_spills_a_lot in k.cu spills registers"), r.output());
        assertTrue(!r.output().contains("kernel tpk_fine"), r.output());
    }

    @Test
    void aSpillTheFileAllowsIsReportedNotFatal() throws Exception {
        Files.writeString(src.resolve("k.cu"), """
                // tpk-allow-spills: tpk_spills_a_lot
                // tpk-kernels: tpk_spills_a_lot
                extern "C" __global__ void tpk_spills_a_lot(float* x) {}
                """);
        Result r = build(Map.of());
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("allowed by k.cu"), r.output());
        String report = Files.readString(tmp.resolve("report.txt"));
        assertTrue(report.contains("Function properties") || report.contains("spill"), report);
    }

    @Test
    void eachFileGetsItsArchitecturesAndPtxasChecksTheMatchingSms() throws Exception {
        Files.writeString(src.resolve("generic.cu"), """
                // tpk-kernels: tpk_a
                extern "C" __global__ void tpk_a(float* x) {}
                """);
        Files.writeString(src.resolve("hopper.cu"), """
                // tpk-arch: compute_90a
                // tpk-kernels: tpk_b
                extern "C" __global__ void tpk_b(float* x) {}
                """);
        Result r = build(Map.of());
        assertEquals(0, r.exit(), r.output());
        Path out = tmp.resolve("out");
        assertEquals(List.of("generic compute_80", "hopper compute_90a"),
                Files.readAllLines(out.resolve("tpkernels-ptx/index.txt")));
        assertTrue(Files.readString(out.resolve("tpkernels-ptx/hopper.compute_90a.ptx")).contains(".entry tpk_b"));
        String calls = Files.readString(tools.resolve("ptxas-calls.txt"));
        assertTrue(calls.contains("-arch=sm_80") && calls.contains("-arch=sm_90 ") && calls.contains("-arch=sm_90a"),
                calls);
        assertTrue(Files.exists(out.resolve("tpkernels-cu/hopper.cu")), "sources packaged for NVRTC");
    }

    @Test
    void kernelsDeclaredByPatternsPass() throws Exception {
        Files.writeString(src.resolve("k.cu"), """
                // tpk-kernels: tpk_add_{f32,bf16}
                // tpk-kernels: tpk_spin
                extern "C" __global__ void tpk_add_f32(float* x) {}
                extern "C" __global__ void tpk_add_bf16(float* x) {}
                extern "C" __global__ void tpk_spin(float* x) {}
                """);
        Result r = build(Map.of());
        assertEquals(0, r.exit(), r.output());
    }

    @Test
    void aKernelItsFileDoesNotDeclareFailsTheBuildNamingIt() throws Exception {
        Files.writeString(src.resolve("k.cu"), """
                // tpk-kernels: tpk_a
                extern "C" __global__ void tpk_a(float* x) {}
                extern "C" __global__ void tpk_new(float* x) {}
                """);
        Result r = build(Map.of());
        assertNotEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("k.compute_80.ptx does not define the kernels k.cu declares")
                && r.output().contains("not declared: tpk_new"), r.output());
    }

    @Test
    void aDeclaredKernelThePtxLacksFailsTheBuildNamingIt() throws Exception {
        Files.writeString(src.resolve("k.cu"), """
                // tpk-kernels: tpk_{a,renamed}
                extern "C" __global__ void tpk_a(float* x) {}
                """);
        Result r = build(Map.of());
        assertNotEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("declared, not in the PTX: tpk_renamed"), r.output());
    }

    @Test
    void aDeclarationThatIsNeitherANameNorAPatternFailsTheBuild() throws Exception {
        Files.writeString(src.resolve("k.cu"), """
                // tpk-kernels: tpk_a $(date)
                extern "C" __global__ void tpk_a(float* x) {}
                """);
        Result r = build(Map.of());
        assertNotEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("is neither a kernel name nor a {a,b} pattern"), r.output());
    }

    @Test
    void withoutNvccTheSourcesArePackagedAndTheBuildSaysSoOnce() throws Exception {
        Files.writeString(src.resolve("k.cu"), "extern \"C\" __global__ void tpk_a(float* x) {}\n");
        Result r = build(Map.of("TPK_NVCC", "none"));
        assertEquals(0, r.exit(), r.output());
        assertEquals(1, r.output().split("nvcc not found", -1).length - 1, r.output());
        assertEquals(List.of("k.cu"), Files.readAllLines(tmp.resolve("out/tpkernels-cu/index.txt")));
        assertEquals(List.of(), Files.readAllLines(tmp.resolve("out/tpkernels-ptx/index.txt")));
    }
}
