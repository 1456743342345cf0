package io.tpkernels.runtime;

import static io.tpkernels.runtime.Tuning.PtxSource.NVRTC;
import static io.tpkernels.runtime.Tuning.PtxSource.PACKAGED;
import static io.tpkernels.runtime.Tuning.PtxSource.PTX;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.cuda.sources.KernelNames;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class PtxLibraryTest {

    private static List<String> names(List<PtxLibrary.Choice> choices) {
        return choices.stream().map(PtxLibrary.Choice::toString).toList();
    }

    private final PtxLibrary library = PtxLibrary.ofIndex(Map.of("gemm", List.of("compute_80", "compute_90a")));

    @Test
    void hopperPrefersItsArchSpecificPtxThenGenericThenNvrtc() {
        assertEquals(List.of("gemm.compute_90a.ptx", "gemm.compute_80.ptx", "gemm.cu via NVRTC for compute_90"),
                names(library.choices("gemm", 90, PACKAGED)));
    }

    @Test
    void archSpecificPtxNeverRunsOnAnotherArchitecture() {
        assertEquals(List.of("gemm.compute_80.ptx", "gemm.cu via NVRTC for compute_100"),
                names(library.choices("gemm", 100, PACKAGED)));
        assertEquals(List.of("gemm.compute_80.ptx", "gemm.cu via NVRTC for compute_89"),
                names(library.choices("gemm", 89, PACKAGED)));
    }

    @Test
    void aModuleBuiltOnlyForHopperHasNoChoiceElsewhereAndNvrtcCompilesItForTheArchSpecificTarget() {
        PtxLibrary hopperOnly = PtxLibrary.ofIndex(Map.of("gemm_sm90", List.of("compute_90a")));
        assertEquals(List.of("gemm_sm90.compute_90a.ptx", "gemm_sm90.cu via NVRTC for compute_90a"),
                names(hopperOnly.choices("gemm_sm90", 90, PACKAGED)));
        assertEquals(List.of("gemm_sm90.cu via NVRTC for compute_90a"),
                names(hopperOnly.choices("gemm_sm90", 90, NVRTC)));
        assertEquals(List.of(), names(hopperOnly.choices("gemm_sm90", 80, PACKAGED)));
        assertEquals(List.of(), names(hopperOnly.choices("gemm_sm90", 100, PACKAGED)));
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
    void thePackagedModulesAreTheKernelFilesKernelNamesKnows() {
        assertEquals(new TreeSet<>(KernelNames.KERNELS.keySet()), new TreeSet<>(PtxLibrary.packaged().modules()));
    }

    @Test
    void olderDevicesThanThePtxGetNvrtcOnly() {
        assertEquals(List.of("gemm.cu via NVRTC for compute_75"),
                names(library.choices("gemm", 75, PACKAGED)));
        assertEquals(List.of("gemm.cu via NVRTC for compute_90"), names(library.choices("gemm", 90, NVRTC)));
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

    /** As the build packages them: generic PTX with cubins for sm_80 and sm_90, Hopper-only PTX with sm_90a. */
    private final PtxLibrary shipped = PtxLibrary.ofIndex(
            Map.of("cast", List.of("compute_80"), "gemm_sm90", List.of("compute_90a")),
            Map.of("cast", List.of("sm_80", "sm_90"), "gemm_sm90", List.of("sm_90a")));

    @Test
    void eachComputeCapabilityTriesTheCubinItCanRunThenPtxThenNvrtc() {
        for (int cc : new int[] {80, 86, 89}) {
            assertEquals(List.of("cast.sm_80.cubin", "cast.compute_80.ptx", "cast.cu via NVRTC for compute_" + cc),
                    names(shipped.choices("cast", cc, PACKAGED)), "cc " + cc);
            assertEquals(List.of(), names(shipped.choices("gemm_sm90", cc, PACKAGED)), "cc " + cc);
        }
        assertEquals(List.of("cast.sm_90.cubin", "cast.compute_80.ptx", "cast.cu via NVRTC for compute_90"),
                names(shipped.choices("cast", 90, PACKAGED)));
        assertEquals(List.of("gemm_sm90.sm_90a.cubin", "gemm_sm90.compute_90a.ptx",
                "gemm_sm90.cu via NVRTC for compute_90a"), names(shipped.choices("gemm_sm90", 90, PACKAGED)));
        for (int cc : new int[] {100, 120}) {
            assertEquals(List.of("cast.compute_80.ptx", "cast.cu via NVRTC for compute_" + cc),
                    names(shipped.choices("cast", cc, PACKAGED)), "cc " + cc);
            assertEquals(List.of(), names(shipped.choices("gemm_sm90", cc, PACKAGED)), "cc " + cc);
        }
    }

    @Test
    void ptxSkipsTheCubinsAndNvrtcSkipsAllPackagedCode() {
        assertEquals(List.of("cast.compute_80.ptx", "cast.cu via NVRTC for compute_90"),
                names(shipped.choices("cast", 90, PTX)));
        assertEquals(List.of("gemm_sm90.compute_90a.ptx", "gemm_sm90.cu via NVRTC for compute_90a"),
                names(shipped.choices("gemm_sm90", 90, PTX)));
        assertEquals(List.of("cast.cu via NVRTC for compute_86"), names(shipped.choices("cast", 86, NVRTC)));
    }

    @Test
    void machineCodeRunsOnlyWithinItsMajorVersionAndForwardOrOnExactlyItsArchitecture() {
        Map<String, List<Integer>> runsOn = Map.of(
                "sm_80", List.of(80, 86, 87, 89),
                "sm_86", List.of(86, 87, 89),
                "sm_90", List.of(90),
                "sm_90a", List.of(90),
                "sm_100", List.of(100, 103),
                "sm_100a", List.of(100),
                "sm_120", List.of(120, 121));
        int[] devices = {75, 80, 86, 87, 89, 90, 100, 103, 110, 120, 121};
        for (Map.Entry<String, List<Integer>> e : runsOn.entrySet()) {
            for (int cc : devices) {
                assertEquals(e.getValue().contains(cc), PtxLibrary.runsCubin(e.getKey(), cc), e.getKey() + " on " + cc);
            }
        }
        assertFalse(PtxLibrary.runsCubin("sm_100f", 100), "a family-specific target is not taken");
        assertFalse(PtxLibrary.runsCubin("compute_80", 80), "PTX is not machine code");
    }

    @Test
    void theNewestCubinOfTheMajorVersionNotAboveTheDeviceComesFirst() {
        PtxLibrary lib = PtxLibrary.ofIndex(Map.of("m", List.of("compute_80")),
                Map.of("m", List.of("sm_80", "sm_86", "sm_89")));
        assertEquals(List.of("m.sm_86.cubin", "m.sm_80.cubin", "m.compute_80.ptx", "m.cu via NVRTC for compute_87"),
                names(lib.choices("m", 87, PACKAGED)));
        assertEquals(List.of("m.sm_80.cubin", "m.compute_80.ptx", "m.cu via NVRTC for compute_80"),
                names(lib.choices("m", 80, PACKAGED)));
    }
}
