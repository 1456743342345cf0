package io.tpkernels.ffm.cublas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tpkernels.ffm.LibraryLocator;
import io.tpkernels.ffm.LibraryName;
import io.tpkernels.ffm.NativeLibraryUnavailableException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** cuBLAS's binding where there is no cuBLAS: how it is looked for, how statuses are named, what a call says. */
class CublasWithoutGpuTest {

    @TempDir
    Path tmp;

    /** The values are cublas_api.h's ({@code cublasStatus_t}), written here by hand from the header. */
    @Test
    void statusesAreNamedAsCublasApiHNamesThem() {
        assertEquals("CUBLAS_STATUS_SUCCESS", Cublas.statusName(0));
        assertEquals("CUBLAS_STATUS_NOT_INITIALIZED", Cublas.statusName(1));
        assertEquals("CUBLAS_STATUS_INVALID_VALUE", Cublas.statusName(7));
        assertEquals("CUBLAS_STATUS_ARCH_MISMATCH", Cublas.statusName(8));
        assertEquals("CUBLAS_STATUS_NOT_SUPPORTED", Cublas.statusName(15));
        assertEquals("CUBLAS_STATUS_UNKNOWN_STATUS_4242", Cublas.statusName(4242));
    }

    @Test
    void anExceptionCarriesTheNameTheCallAndItsArguments() {
        CublasException e = new CublasException(15, "cublasGemmEx(m=8, n=4, k=64)");
        assertEquals(15, e.status());
        assertEquals("CUBLAS_STATUS_NOT_SUPPORTED", e.statusName());
        assertEquals("cublasGemmEx(m=8, n=4, k=64) failed: CUBLAS_STATUS_NOT_SUPPORTED (15)", e.getMessage());
    }

    @Test
    void cublas13IsPreferredTo12InAFolderAndTheExplicitFoldersComeFirst() throws Exception {
        Path older = fakeLibrary("wheel", "libcublas.so.12");
        Path newer = fakeLibrary("wheel", "libcublas.so.13");
        Path explicit = fakeLibrary("mine", "libcublas.so.12");
        LibraryLocator onlyWheel = new LibraryLocator(Map.of("LD_LIBRARY_PATH", newer.getParent().toString()), tmp);
        assertEquals(Optional.of(newer), LibraryLocator.firstIn(onlyWheel.explicitFolders(), LibraryName.CUBLAS));
        LibraryLocator both = new LibraryLocator(Map.of("TPK_CUDA_LIBRARY_PATH", explicit.getParent().toString(),
                "LD_LIBRARY_PATH", older.getParent().toString()), tmp);
        assertEquals(Optional.of(explicit), LibraryLocator.firstIn(both.explicitFolders(), LibraryName.CUBLAS));
    }

    @Test
    void withoutCublasACallSaysWhyInOneSentence() {
        assumeTrue(!Cublas.isAvailable(), "cuBLAS is installed here");
        String reason = Cublas.library().reason().orElseThrow();
        assertTrue(reason.contains("libcublas.so.13"), reason);
        var e = assertThrows(NativeLibraryUnavailableException.class, Cublas::create);
        assertTrue(e.getMessage().contains("cublasCreate_v2"), e.getMessage());
    }

    private Path fakeLibrary(String folder, String file) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(folder));
        return Files.writeString(dir.resolve(file), "not really a library");
    }
}
