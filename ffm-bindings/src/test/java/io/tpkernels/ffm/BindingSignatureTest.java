package io.tpkernels.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tpkernels.ffm.cuda.CudaDriverApi;
import io.tpkernels.ffm.nvrtc.NvrtcApi;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The Java-side declarations compiled against the real headers, so that a wrong binding fails the build
 * on a machine without a GPU. Skipped, with the reason, only where {@code gcc} or the header is missing.
 */
class BindingSignatureTest {

    private static Path include(String header) {
        assumeTrue(HeaderCheck.hasGcc(), "gcc is not on PATH: cannot compile the signature check");
        Optional<Path> dir = HeaderCheck.findInclude(header);
        assumeTrue(dir.isPresent(), header + " was not found (CUDA_HOME, CUDA_PATH, /usr/local/cuda/include, "
                + "the toolkit next to nvcc, Python wheels): signature check of its bindings skipped");
        return dir.get();
    }

    private static void assertCompiles(String header, List<CFunction> functions, List<CConstant> constants)
            throws Exception {
        Path dir = include(header);
        // Headers of the libraries (cuBLAS, NCCL) include the CUDA runtime's, which live in the toolkit.
        Path[] more = HeaderCheck.findInclude("cuda_runtime.h").map(p -> new Path[] {p}).orElse(new Path[0]);
        String source = HeaderCheck.cSource(header, functions, constants);
        HeaderCheck.Run r = HeaderCheck.compile(source, dir, more);
        assertEquals(0, r.exitCode(), () -> "bindings disagree with " + dir.resolve(header) + ":\n" + r.output()
                + "\n--- generated source ---\n" + source);
        Map<String, String> expanded = HeaderCheck.expansions(header, functions, dir, more);
        assertEquals(functions.size(), expanded.size(), "every symbol preprocessed");
        expanded.forEach((symbol, expansion) -> assertEquals(symbol, expansion,
                () -> symbol + " is a macro in " + header + " for " + expansion + ": bind the name it expands to"));
    }

    @Test
    void cudaDriverBindingsMatchCudaH() throws Exception {
        List<CConstant> constants = new ArrayList<>(CudaDriverApi.CONSTANTS);
        constants.addAll(CudaDriverApi.RESULTS);
        assertCompiles("cuda.h", CudaDriverApi.FUNCTIONS, constants);
    }

    @Test
    void nvrtcBindingsMatchNvrtcH() throws Exception {
        assertCompiles("nvrtc.h", NvrtcApi.FUNCTIONS, NvrtcApi.RESULTS);
    }

    @Test
    void cublasBindingsMatchCublasV2H() throws Exception {
        assertCompiles("cublas_v2.h", io.tpkernels.ffm.cublas.CublasApi.FUNCTIONS, io.tpkernels.ffm.cublas.CublasApi.CONSTANTS);
    }

    @Test
    void ncclBindingsMatchNcclH() throws Exception {
        List<CConstant> constants = new ArrayList<>(io.tpkernels.ffm.nccl.NcclApi.CONSTANTS);
        // Results newer than some supported headers: asserted wherever the header declares them.
        String text = java.nio.file.Files.readString(include("nccl.h").resolve("nccl.h"));
        for (CConstant recent : io.tpkernels.ffm.nccl.NcclApi.RECENT_RESULTS) {
            if (text.contains(recent.name())) {
                constants.add(recent);
            }
        }
        assertCompiles("nccl.h", io.tpkernels.ffm.nccl.NcclApi.FUNCTIONS, constants);
    }

    @Test
    void aWrongParameterTypeFailsTheCheck() throws Exception {
        Path dir = include("cuda.h");
        // cuMemAlloc_v2 takes size_t; declaring it with int must be caught.
        CFunction wrong = CFunction.of("cuMemAlloc_v2", CType.int32("CUresult"), CType.pointer("CUdeviceptr *"),
                CType.INT);
        HeaderCheck.Run r = HeaderCheck.compile(HeaderCheck.cSource("cuda.h", List.of(wrong), List.of()), dir);
        assertNotEquals(0, r.exitCode(), "an int where cuda.h has size_t must not compile");
    }

    @Test
    void aWrongWidthFailsTheCheck() throws Exception {
        Path dir = include("cuda.h");
        // CUdeviceptr is 64-bit; a binding that carried it as a Java int would truncate pointers.
        CFunction wrong = CFunction.of("cuMemFree_v2", CType.int32("CUresult"), CType.int32("CUdeviceptr"));
        HeaderCheck.Run r = HeaderCheck.compile(HeaderCheck.cSource("cuda.h", List.of(wrong), List.of()), dir);
        assertNotEquals(0, r.exitCode(), "CUdeviceptr carried in 4 bytes must not compile");
        assertTrue(r.output().contains("CUdeviceptr"), r.output());
    }

    @Test
    void aWrongConstantFailsTheCheck() throws Exception {
        Path dir = include("cuda.h");
        HeaderCheck.Run r = HeaderCheck.compile(HeaderCheck.cSource("cuda.h", List.of(),
                List.of(new CConstant("CUDA_ERROR_OUT_OF_MEMORY", 3))), dir);
        assertNotEquals(0, r.exitCode());
    }

    @Test
    void aPlainNameThatCudaHRenamesIsCaught() throws Exception {
        Path dir = include("cuda.h");
        CFunction plain = CFunction.of("cuMemAlloc", CType.int32("CUresult"), CType.pointer("CUdeviceptr *"),
                CType.SIZE_T);
        Map<String, String> expanded = HeaderCheck.expansions("cuda.h", List.of(plain), dir);
        assertEquals("cuMemAlloc_v2", expanded.get("cuMemAlloc"));
    }
}
