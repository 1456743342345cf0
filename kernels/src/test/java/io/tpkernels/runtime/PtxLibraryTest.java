package io.tpkernels.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.cuda.sources.KernelNames;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PtxLibraryTest {

    private static List<String> names(List<PtxLibrary.Choice> choices) {
        return choices.stream().map(PtxLibrary.Choice::toString).toList();
    }

    private final PtxLibrary library = PtxLibrary.ofIndex(Map.of("gemm", List.of("compute_80", "compute_90a")));

    @Test
    void hopperPrefersItsArchSpecificPtxThenGenericThenNvrtc() {
        assertEquals(List.of("gemm.compute_90a.ptx", "gemm.compute_80.ptx", "gemm.cu via NVRTC for compute_90"),
                names(library.choices("gemm", 90, false)));
    }

    @Test
    void archSpecificPtxNeverRunsOnAnotherArchitecture() {
        assertEquals(List.of("gemm.compute_80.ptx", "gemm.cu via NVRTC for compute_100"),
                names(library.choices("gemm", 100, false)));
        assertEquals(List.of("gemm.compute_80.ptx", "gemm.cu via NVRTC for compute_89"),
                names(library.choices("gemm", 89, false)));
    }

    @Test
    void aModuleBuiltOnlyForHopperHasNoChoiceElsewhereAndNvrtcCompilesItForTheArchSpecificTarget() {
        PtxLibrary hopperOnly = PtxLibrary.ofIndex(Map.of("gemm_sm90", List.of("compute_90a")));
        assertEquals(List.of("gemm_sm90.compute_90a.ptx", "gemm_sm90.cu via NVRTC for compute_90a"),
                names(hopperOnly.choices("gemm_sm90", 90, false)));
        assertEquals(List.of("gemm_sm90.cu via NVRTC for compute_90a"), names(hopperOnly.choices("gemm_sm90", 90, true)));
        assertEquals(List.of(), names(hopperOnly.choices("gemm_sm90", 80, false)));
        assertEquals(List.of(), names(hopperOnly.choices("gemm_sm90", 100, false)));
    }

    @Test
    void thePackagedHopperGemmIsDeclaredArchSpecificByItsSource() {
        PtxLibrary packaged = PtxLibrary.packaged();
        assertTrue(packaged.hasSource("gemm_sm90"), "gemm_sm90.cu is packaged");
        assertEquals(List.of("compute_90a"), packaged.archSpecificTargets("gemm_sm90"));
        assertTrue(packaged.hasSource("gemm_sm90_pingpong"), "gemm_sm90_pingpong.cu is packaged");
        assertEquals(List.of("compute_90a"), packaged.archSpecificTargets("gemm_sm90_pingpong"));
        assertEquals(List.of(), packaged.archSpecificTargets("gemm"), "gemm.cu runs anywhere from sm_80");
    }

    @Test
    void olderDevicesThanThePtxGetNvrtcOnly() {
        assertEquals(List.of("gemm.cu via NVRTC for compute_75"), names(library.choices("gemm", 75, false)));
        assertEquals(List.of("gemm.cu via NVRTC for compute_90"), names(library.choices("gemm", 90, true)));
    }

    @Test
    void theBuildPackagesTheCastKernelSourceAndItsPtxWhenNvccRan() {
        PtxLibrary packaged = PtxLibrary.packaged();
        assertTrue(packaged.hasSource("cast"), "cast.cu is packaged for NVRTC");
        String source = packaged.source("cast");
        for (String kernel : KernelNames.KERNELS.get(KernelNames.MODULE_CAST)) {
            assertTrue(source.contains(kernel), kernel + " in cast.cu");
            for (String arch : packaged.archs("cast")) {
                assertTrue(packaged.ptx("cast", arch).contains(".entry " + kernel), kernel + " in cast." + arch + ".ptx");
            }
        }
    }
}
