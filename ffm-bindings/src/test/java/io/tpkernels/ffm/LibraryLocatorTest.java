package io.tpkernels.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LibraryLocatorTest {

    @TempDir
    Path tmp;

    private Path fakeLibrary(String folder, String file) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(folder));
        return Files.writeString(dir.resolve(file), "not really a library");
    }

    @Test
    void explicitFoldersComeInTheDocumentedOrder() throws Exception {
        Path mine = fakeLibrary("mine", "libnvrtc.so.13");
        Path home = fakeLibrary("toolkit/lib64", "libnvrtc.so.13");
        fakeLibrary("toolkit/targets/x86_64-linux/lib", "libnvrtc.so.12");
        Path ld = fakeLibrary("ld", "libnvrtc.so.13");
        Map<String, String> env = Map.of("TPK_CUDA_LIBRARY_PATH", mine.getParent().toString(),
                "CUDA_HOME", tmp.resolve("toolkit").toString(), "LD_LIBRARY_PATH", ld.getParent() + "::");
        LibraryLocator locator = new LibraryLocator(env, tmp);
        List<LibraryLocator.Candidate> folders = locator.explicitFolders();
        assertEquals("TPK_CUDA_LIBRARY_PATH", folders.get(0).source());
        assertEquals(home.getParent(), folders.get(1).folder());
        assertEquals(tmp.resolve("toolkit/targets/x86_64-linux/lib"), folders.get(3).folder());
        assertEquals("LD_LIBRARY_PATH", folders.get(folders.size() - 1).source());
        assertEquals(Optional.of(mine), LibraryLocator.firstIn(folders, LibraryName.NVRTC));
    }

    @Test
    void cudaHomeWinsOverTheLoaderPathAndNewerSonamesWinInAFolder() throws Exception {
        fakeLibrary("toolkit/lib64", "libnvrtc.so.12");
        Path newer = fakeLibrary("toolkit/lib64", "libnvrtc.so.13");
        fakeLibrary("ld", "libnvrtc.so.13");
        LibraryLocator locator = new LibraryLocator(Map.of("CUDA_HOME", tmp.resolve("toolkit").toString(),
                "LD_LIBRARY_PATH", tmp.resolve("ld").toString()), tmp);
        assertEquals(Optional.of(newer), LibraryLocator.firstIn(locator.explicitFolders(), LibraryName.NVRTC));
    }

    @Test
    void pythonWheelFoldersOfAVirtualEnvironmentAreSearched() throws Exception {
        Path nccl = fakeLibrary("venv/lib/python3.12/site-packages/nvidia/nccl/lib", "libnccl.so.2");
        LibraryLocator locator = new LibraryLocator(Map.of("VIRTUAL_ENV", tmp.resolve("venv").toString()), tmp);
        assertEquals(Optional.of(nccl), LibraryLocator.firstIn(locator.fallbackFolders(), LibraryName.NCCL));
    }

    @Test
    void theDriverIsNeverTakenFromTheToolkitStubs() throws Exception {
        fakeLibrary("toolkit/lib64/stubs", "libcuda.so");
        LibraryLocator locator = new LibraryLocator(Map.of("CUDA_HOME", tmp.resolve("toolkit").toString()), tmp);
        assertEquals(Optional.empty(), LibraryLocator.firstIn(locator.explicitFolders(), LibraryName.CUDA_DRIVER));
    }

    @Test
    void aFileThatIsNotALibrarySaysWhyItCouldNotBeLoaded() throws Exception {
        Path bad = fakeLibrary("bad", "libnccl.so.2");
        NativeLibrary lib = NativeLibrary.load(LibraryName.NCCL,
                new LibraryLocator(Map.of("TPK_CUDA_LIBRARY_PATH", bad.getParent().toString()), tmp));
        // If a real NCCL is installed system-wide the loader finds it after our bad file fails; either way no crash.
        if (!lib.isLoaded()) {
            String reason = lib.reason().orElseThrow();
            assertTrue(reason.contains(bad.toString()) || reason.contains("was not found"), reason);
        }
    }

    @Test
    void theNotFoundSentenceNamesEveryPlaceSearched() {
        LibraryLocator locator = new LibraryLocator(Map.of("CUDA_HOME", "/opt/nowhere"), tmp);
        String d = locator.describeSearch();
        for (String place : List.of("TPK_CUDA_LIBRARY_PATH (unset)", "CUDA_HOME (/opt/nowhere)", "LD_LIBRARY_PATH",
                "/usr/lib/x86_64-linux-gnu", "site-packages/nvidia/*/lib")) {
            assertTrue(d.contains(place), place + " in: " + d);
        }
    }
}
