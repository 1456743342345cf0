package io.tpkernels.cuda.sources;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The generated {@link KernelNames} and {@link KernelConstants} against what this module packages: the sources, and
 * the PTX nvcc built from them (where nvcc was found; without it the PTX checks are skipped). The PTX is what a GPU
 * runs and the emulator registers, so a name or launch bound the Java side would get wrong shows here, not at the
 * first launch.
 */
class KernelSourcesTest {
    /** An entry point and what follows it up to its body: {@code .maxntid} (from __launch_bounds__) and the like. */
    private static final Pattern ENTRY = Pattern.compile("(?m)^\\.visible \\.entry (\\w+)\\(([^{]*)\\{");
    private static final Pattern MAXNTID = Pattern.compile("\\.maxntid (\\d+), 1, 1");
    private static final Pattern MINNCTAPERSM = Pattern.compile("\\.minnctapersm (\\d+)");

    private static String resource(String name) throws IOException {
        try (InputStream in = KernelSourcesTest.class.getResourceAsStream("/" + name)) {
            assertNotNull(in, name + " is not packaged");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static List<String> lines(String name) throws IOException {
        return resource(name).lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    /** Each packaged PTX file's kernels with their launch bounds: "NAME.ARCH" to kernel to PTX directives. */
    private static Map<String, Map<String, String>> ptx() throws IOException {
        Map<String, Map<String, String>> files = new TreeMap<>();
        for (String line : lines("tpkernels-ptx/index.txt")) {
            String[] parts = line.split(" ");
            String file = parts[0] + "." + parts[1];
            Map<String, String> kernels = new LinkedHashMap<>();
            Matcher m = ENTRY.matcher(resource("tpkernels-ptx/" + file + ".ptx"));
            while (m.find()) {
                kernels.put(m.group(1), m.group(2));
            }
            files.put(file, kernels);
        }
        return files;
    }

    @Test
    void everyPackagedKernelFileIsAModuleOfKernelNames() throws IOException {
        Set<String> files = new TreeSet<>();
        for (String f : lines("tpkernels-cu/index.txt")) {
            if (f.endsWith(".cu")) {
                files.add(f.substring(0, f.length() - ".cu".length()));
            }
        }
        assertEquals(files, new TreeSet<>(KernelNames.KERNELS.keySet()));
        assertFalse(files.isEmpty());
    }

    @Test
    void thePtxDefinesExactlyTheKernelsKernelNamesLists() throws IOException {
        Map<String, Map<String, String>> ptx = ptx();
        assumeFalse(ptx.isEmpty(), "no PTX was built (nvcc not found)");
        Set<String> modules = new TreeSet<>();
        for (Map.Entry<String, Map<String, String>> file : ptx.entrySet()) {
            String module = file.getKey().substring(0, file.getKey().indexOf('.'));
            modules.add(module);
            List<String> declared = KernelNames.KERNELS.get(module);
            assertNotNull(declared, file.getKey() + ".ptx is of no module KernelNames knows");
            assertEquals(new TreeSet<>(declared), new TreeSet<>(file.getValue().keySet()), file.getKey() + ".ptx");
        }
        assertEquals(KernelNames.KERNELS.keySet(), modules, "modules with PTX");
    }

    /**
     * The threads per block each kernel allows ({@code __launch_bounds__}, in the PTX as {@code .maxntid}) against
     * the constant its launch uses: the kernels must take them from tpk_constants.cuh, not restate them.
     */
    @Test
    void theLaunchBoundsInThePtxAreTheConstantsTheLaunchesUse() throws IOException {
        Map<String, Map<String, String>> ptx = ptx();
        assumeFalse(ptx.isEmpty(), "no PTX was built (nvcc not found)");
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, Map<String, String>> file : ptx.entrySet()) {
            String module = file.getKey().substring(0, file.getKey().indexOf('.'));
            for (Map.Entry<String, String> kernel : file.getValue().entrySet()) {
                String name = kernel.getKey();
                Integer expected = threads(module, name);
                Matcher m = MAXNTID.matcher(kernel.getValue());
                Integer actual = m.find() ? Integer.valueOf(m.group(1)) : null;
                if (!Objects.equals(expected, actual)) {
                    wrong.add(file.getKey() + " " + name + ": .maxntid " + actual + ", the launch's constant " + expected);
                }
                if (module.equals(KernelNames.MODULE_EMBEDDING)) {
                    Matcher b = MINNCTAPERSM.matcher(kernel.getValue());
                    if (!b.find() || Integer.parseInt(b.group(1)) != KernelConstants.EMBEDDING_MIN_BLOCKS_PER_SM) {
                        wrong.add(file.getKey() + " " + name + ": not .minnctapersm "
                                + KernelConstants.EMBEDDING_MIN_BLOCKS_PER_SM);
                    }
                }
            }
        }
        assertEquals(List.of(), wrong);
    }

    /** The block size the Java side launches {@code kernel} of {@code module} with; null for no bound. */
    private static Integer threads(String module, String kernel) {
        return switch (module) {
            case KernelNames.MODULE_ARGMAX -> KernelConstants.ARGMAX_THREADS;
            case KernelNames.MODULE_BACKWARD_GEMM -> KernelConstants.BACKWARD_GEMM_THREADS;
            case KernelNames.MODULE_CAST -> KernelConstants.CAST_THREADS;
            case KernelNames.MODULE_COLLECTIVE -> KernelConstants.COLLECTIVE_THREADS;
            case KernelNames.MODULE_CROSS_ENTROPY -> KernelConstants.CROSS_ENTROPY_THREADS;
            case KernelNames.MODULE_ELEMENTWISE -> KernelConstants.ELEMENTWISE_THREADS;
            case KernelNames.MODULE_EMBEDDING -> KernelConstants.EMBEDDING_THREADS;
            case KernelNames.MODULE_LORA_DECODE -> KernelConstants.GEMM_MMA_DECODE_THREADS;
            case KernelNames.MODULE_GEMM_SM90, KernelNames.MODULE_GEMM_SM90_PINGPONG -> KernelConstants.SM90_THREADS;
            case KernelNames.MODULE_GEMM -> {
                if (kernel.startsWith("tpk_pad_columns_")) {
                    yield KernelConstants.GEMM_PAD_THREADS;
                } else if (kernel.startsWith("tpk_gemm_simt_")) {
                    yield KernelConstants.GEMM_SIMT_THREADS;
                } else if (kernel.startsWith("tpk_gemm_decode_")) {
                    yield KernelConstants.GEMM_DECODE_THREADS;
                } else if (kernel.startsWith("tpk_gemm_mma_decode_")) {
                    yield KernelConstants.GEMM_MMA_DECODE_THREADS;
                } else if (kernel.startsWith("tpk_gemm_mma_")) {
                    yield KernelConstants.GEMM_MMA_THREADS;
                }
                throw new AssertionError("no launch constant known for " + kernel + ": add it to this test");
            }
            case KernelNames.MODULE_LM_HEAD_CE -> kernel.equals(KernelNames.TPK_LMHEAD_CE_FOLD)
                    ? KernelConstants.CROSS_ENTROPY_THREADS : KernelConstants.GEMM_MMA_THREADS;
            case KernelNames.MODULE_TRAIN -> KernelConstants.ELEMENTWISE_THREADS; // AdamWCuda launches these blocks
            case KernelNames.MODULE_SWIGLU_BACKWARD -> KernelConstants.ELEMENTWISE_THREADS; // as the forward's
            case KernelNames.MODULE_TIMING -> null; // tpk_spin: one thread, no bound
            default -> throw new AssertionError("no launch constant known for module " + module + ": add it to this test");
        };
    }
}
