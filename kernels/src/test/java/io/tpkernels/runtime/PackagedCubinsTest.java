package io.tpkernels.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.tpkernels.cuda.sources.KernelNames;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The machine code the {@code tpkernels-cuda-src} jar ships beside its PTX: every module with PTX has a cubin for
 * each SASS target {@code build-ptx.sh} builds from it, and each cubin is code of that target holding the module's
 * kernels.
 */
class PackagedCubinsTest {
    private static final int EM_CUDA = 190;

    /** The SASS targets {@code ptxas} builds from a module's PTX for each of its virtual architectures. */
    private static List<String> targetsOf(String arch) {
        return switch (arch) {
            case "compute_80" -> List.of("sm_80", "sm_90");
            case "compute_90a" -> List.of("sm_90a");
            default -> throw new AssertionError("no SASS targets known for " + arch + ": add them to this test");
        };
    }

    @Test
    void everyModuleWithPtxShipsItsCubinsAndNoOtherDoes() {
        PtxLibrary packaged = PtxLibrary.packaged();
        assumeFalse(KernelNames.KERNELS.keySet().stream().allMatch(m -> packaged.archs(m).isEmpty()),
                "no PTX was built (nvcc not found), so no cubins either");
        for (String module : KernelNames.KERNELS.keySet()) {
            List<String> expected = packaged.archs(module).stream()
                    .flatMap(a -> targetsOf(a).stream()).sorted().toList();
            assertEquals(expected, packaged.cubins(module).stream().sorted().toList(), module);
            for (String sm : packaged.cubins(module)) {
                byte[] cubin = packaged.cubin(module, sm);
                assertEquals(PtxLibrary.archNumber(sm), sassTarget(cubin), module + "." + sm + ".cubin's target");
                String text = new String(cubin, StandardCharsets.ISO_8859_1);
                for (String kernel : KernelNames.KERNELS.get(module)) {
                    assertTrue(text.contains(".text." + kernel + "\0"), kernel + " in " + module + "." + sm + ".cubin");
                }
            }
        }
    }

    /**
     * The SM number a cubin's ELF header names: {@code e_flags} bits 8-15 from ELF ABI version 8 on,
     * bits 0-7 before.
     */
    private static int sassTarget(byte[] cubin) {
        ByteBuffer b = ByteBuffer.wrap(cubin).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x464c457f, b.getInt(0), "ELF magic");
        assertEquals(2, b.get(4), "64-bit ELF");
        assertEquals(EM_CUDA, b.getShort(18), "e_machine");
        int flags = b.getInt(48);
        return b.get(8) >= 8 ? (flags >> 8) & 0xff : flags & 0xff;
    }
}
