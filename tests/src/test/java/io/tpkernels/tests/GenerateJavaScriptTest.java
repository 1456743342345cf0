package io.tpkernels.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cuda-src/generate-java.sh}, which turns the kernels' {@code tpk_constants.cuh} and {@code // tpk-kernels:}
 * lines into the Java constants the launches use, on small inputs: what it writes, and that it refuses a header it
 * could not translate faithfully instead of writing a wrong constant.
 */
class GenerateJavaScriptTest {

    private static final Path SCRIPT = Path.of("..", "cuda-src", "generate-java.sh").toAbsolutePath().normalize();

    @TempDir
    Path tmp;
    private Path src;

    @BeforeEach
    void setUp() throws IOException {
        src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("k.cu"), "// tpk-kernels: tpk_k_{f32,bf16} tpk_spin\n");
    }

    private record Result(int exit, String output) {
    }

    private Result generate(String header) throws Exception {
        Files.writeString(src.resolve("tpk_constants.cuh"), header);
        Process p = new ProcessBuilder("bash", SCRIPT.toString(), src.toString(), tmp.resolve("out").toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Result(p.exitValue(), out);
    }

    private String generated(String className) throws IOException {
        return Files.readString(tmp.resolve("out/io/tpkernels/cuda/sources/" + className + ".java"));
    }

    @Test
    void definesBecomeIntConstantsWithTheirCommentsAsJavadoc() throws Exception {
        Result r = generate("""
                // The file's own comment, not a constant's.
                #pragma once

                // Threads per block: 8 warps.
                #define TPK_THREADS 256
                #define TPK_TILE 64  // columns per block
                // Every stage's <tiles> & barriers.
                #define TPK_SMEM_BYTES \\
                    (3 * (TPK_TILE + TPK_TILE) * 2 + (128 << 3))
                """);
        assertEquals(0, r.exit(), r.output());
        String java = generated("KernelConstants");
        assertTrue(java.contains("""
                    /**
                     * Threads per block: 8 warps.
                     */
                    public static final int THREADS = 256;
                """), java);
        assertTrue(java.contains("""
                     * columns per block
                     */
                    public static final int TILE = 64;
                """), java);
        assertTrue(java.contains("Every stage's &lt;tiles&gt; &amp; barriers."), java);
        assertTrue(java.contains("public static final int SMEM_BYTES = (3 * (TILE + TILE) * 2 + (128 << 3));"), java);
        assertTrue(!java.contains("own comment"), java);
    }

    @Test
    void theKernelLinesBecomeNameConstantsByModule() throws Exception {
        Result r = generate("#define TPK_X 1\n");
        assertEquals(0, r.exit(), r.output());
        String java = generated("KernelNames");
        assertTrue(java.contains("public static final String MODULE_K = \"k\";"), java);
        assertTrue(java.contains("public static final String TPK_K_F32 = \"tpk_k_f32\";"), java);
        assertTrue(java.contains("public static final String TPK_K_BF16 = \"tpk_k_bf16\";"), java);
        assertTrue(java.contains("Map.entry(MODULE_K, List.of(\n                    TPK_K_F32, TPK_K_BF16, TPK_SPIN))"), java);
    }

    @Test
    void aLineOfAnotherFormIsRefusedNamingIt() throws Exception {
        Result r = generate("#define TPK_A 1\nconstexpr int B = 2;\n");
        assertNotEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("tpk_constants.cuh:2: expected `#define TPK_NAME VALUE`"), r.output());
    }

    @Test
    void aValueJavaWouldReadOtherwiseIsRefused() throws Exception {
        for (String value : new String[] {"TPK_LATER", "4u", "sizeof(int)", "1.5f", "-1LL"}) {
            Result r = generate("#define TPK_A " + value + "\n#define TPK_LATER 1\n");
            assertNotEquals(0, r.exit(), value + ": " + r.output());
            assertTrue(r.output().contains("tpk_constants.cuh:1: TPK_A"), value + ": " + r.output());
        }
    }

    @Test
    void aKernelFileWithoutKernelLinesIsRefused() throws Exception {
        Files.writeString(src.resolve("other.cu"), "extern \"C\" __global__ void tpk_x() {}\n");
        Result r = generate("#define TPK_X 1\n");
        assertNotEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("other.cu has no '// tpk-kernels:' line"), r.output());
    }
}
