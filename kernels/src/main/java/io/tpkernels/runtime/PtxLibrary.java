package io.tpkernels.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The kernels packaged by {@code tpkernels-cuda-src}: PTX per kernel file and target architecture
 * ({@code tpkernels-ptx/NAME.ARCH.ptx}, listed in {@code tpkernels-ptx/index.txt}), the machine code {@code ptxas}
 * built from it ({@code tpkernels-cubin/NAME.SM.cubin}, listed in {@code tpkernels-cubin/index.txt}) and the
 * {@code .cu} sources ({@code tpkernels-cu/}) for NVRTC.
 */
public final class PtxLibrary {

    /** The form of a module's code: what the driver is given, or what compiles it first. */
    public enum Form {
        /** Machine code for one SASS target ({@code sm_90}): the driver loads it without compiling. */
        CUBIN,
        /** PTX for a virtual architecture ({@code compute_80}): the driver compiles it for the device. */
        PTX,
        /** The source, compiled to PTX by NVRTC for this device, then by the driver. */
        NVRTC
    }

    /**
     * One way to get a module's code for a device: a packaged cubin or PTX for {@code arch}, or NVRTC.
     *
     * @param module the kernel module
     * @param arch the target: a virtual architecture ({@code compute_90a}) for PTX and NVRTC, a SASS one
     *     ({@code sm_90}) for a cubin
     * @param form what the driver is given
     */
    public record Choice(String module, String arch, Form form) {
        /**
         * Whether NVRTC compiles this choice's code.
         *
         * @return {@code true} for {@link Form#NVRTC}
         */
        public boolean nvrtc() {
            return form == Form.NVRTC;
        }

        @Override
        public String toString() {
            return switch (form) {
                case CUBIN -> module + "." + arch + ".cubin";
                case PTX -> module + "." + arch + ".ptx";
                case NVRTC -> module + ".cu via NVRTC for " + arch;
            };
        }
    }

    private static final String PTX_DIR = "tpkernels-ptx/";
    private static final String CUBIN_DIR = "tpkernels-cubin/";
    private static final String CU_DIR = "tpkernels-cu/";

    private final Map<String, List<String>> archsByModule;
    private final Map<String, List<String>> cubinsByModule;
    private final List<String> sourceFiles;

    private PtxLibrary(Map<String, List<String>> archsByModule, Map<String, List<String>> cubinsByModule,
                       List<String> sourceFiles) {
        this.archsByModule = archsByModule;
        this.cubinsByModule = cubinsByModule;
        this.sourceFiles = sourceFiles;
    }

    private static final class Packaged {
        static final PtxLibrary INSTANCE = load();
    }

    /**
     * The library packaged on the class or module path.
     *
     * @return the library, read once from the class path's {@code tpkernels-*} resources
     */
    public static PtxLibrary packaged() {
        return Packaged.INSTANCE;
    }

    private static PtxLibrary load() {
        List<String> sources = lines(CU_DIR + "index.txt").stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
        return new PtxLibrary(index(PTX_DIR), index(CUBIN_DIR), sources);
    }

    /** The {@code index.txt} of {@code dir}: its "NAME TARGET" lines as targets by module. */
    private static Map<String, List<String>> index(String dir) {
        Map<String, List<String>> targets = new LinkedHashMap<>();
        for (String line : lines(dir + "index.txt")) {
            String[] parts = line.strip().split("\\s+");
            if (parts.length == 2) {
                targets.computeIfAbsent(parts[0], k -> new ArrayList<>()).add(parts[1]);
            }
        }
        return targets;
    }

    /** A library with the given PTX index, no cubins and no resources behind it (for tests of {@link #choices}). */
    static PtxLibrary ofIndex(Map<String, List<String>> archsByModule) {
        return ofIndex(archsByModule, Map.of());
    }

    /** A library with the given PTX and cubin indexes and no resources behind it (for tests of {@link #choices}). */
    static PtxLibrary ofIndex(Map<String, List<String>> archsByModule, Map<String, List<String>> cubinsByModule) {
        return new PtxLibrary(Map.copyOf(archsByModule), Map.copyOf(cubinsByModule), List.of());
    }

    /**
     * The architectures packaged as PTX for {@code module} ({@code compute_80}, {@code compute_90a}).
     *
     * @param module the kernel module
     * @return the architectures, empty when none is packaged
     */
    public List<String> archs(String module) {
        return archsByModule.getOrDefault(module, List.of());
    }

    /**
     * The SASS targets packaged as cubins for {@code module} ({@code sm_80}, {@code sm_90}, {@code sm_90a}).
     *
     * @param module the kernel module
     * @return the targets, empty when none is packaged
     */
    public List<String> cubins(String module) {
        return cubinsByModule.getOrDefault(module, List.of());
    }

    /**
     * The packaged kernel modules, one per {@code .cu} file, in the order of its index.
     *
     * @return the module names
     */
    public List<String> modules() {
        return sourceFiles.stream().filter(f -> f.endsWith(".cu")).map(f -> f.substring(0, f.length() - 3)).toList();
    }

    /**
     * Whether the source of {@code module} is packaged.
     *
     * @param module the kernel module
     * @return whether {@code tpkernels-cu/module.cu} is packaged
     */
    public boolean hasSource(String module) {
        return sourceFiles.contains(module + ".cu");
    }

    /**
     * The ways to obtain {@code module} for a device of compute capability {@code cc} ({@code 10·major+minor}),
     * best first:
     * <ol>
     * <li>the cubins this device can run ({@link #runsCubin}): the one specific to exactly this architecture
     * ({@code sm_90a} on 9.0), then generic ones of its major version, the newest first ({@code sm_80} on 8.6);
     * <li>the PTX specific to exactly this architecture ({@code compute_90a} on 9.0), then generic PTX for the
     * newest architecture not above {@code cc} ({@code compute_80} on 12.0);
     * <li>the source through NVRTC for {@code compute_cc}.
     * </ol>
     * Code for an architecture above the device is never chosen. {@link Tuning.PtxSource#PTX} leaves out the
     * cubins, {@link Tuning.PtxSource#NVRTC} all but the last.
     *
     * <p>A module built only for architecture-specific targets (its source says {@code // tpk-arch: compute_90a};
     * Hopper's wgmma and setmaxnreg exist nowhere else) has no choice at all on other devices, and NVRTC compiles
     * it for {@code compute_cc} with the {@code a} suffix.
     *
     * @param module the kernel module
     * @param cc the device's compute capability, {@code 10·major + minor}
     * @param source which kinds of code to include
     * @return the choices, best first; empty when nothing can run there
     */
    public List<Choice> choices(String module, int cc, Tuning.PtxSource source) {
        List<Choice> out = new ArrayList<>();
        if (source == Tuning.PtxSource.PACKAGED) {
            cubins(module).stream()
                    .filter(sm -> runsCubin(sm, cc))
                    .sorted(specificFirstThenNewest())
                    .forEach(sm -> out.add(new Choice(module, sm, Form.CUBIN)));
        }
        if (source != Tuning.PtxSource.NVRTC) {
            archs(module).stream()
                    .filter(a -> isUsableOn(a, cc))
                    .sorted(specificFirstThenNewest())
                    .forEach(a -> out.add(new Choice(module, a, Form.PTX)));
        }
        List<String> specific = archSpecificTargets(module);
        if (specific.isEmpty()) {
            out.add(new Choice(module, "compute_" + cc, Form.NVRTC));
        } else if (specific.stream().anyMatch(a -> archNumber(a) == cc)) {
            out.add(new Choice(module, "compute_" + cc + "a", Form.NVRTC));
        }
        return out;
    }

    private static Comparator<String> specificFirstThenNewest() {
        return Comparator.comparing((String a) -> !a.endsWith("a")).thenComparing(a -> -archNumber(a));
    }

    /**
     * Whether machine code for the SASS target {@code sm} ({@code sm_80}, {@code sm_90a}) runs on a device of compute
     * capability {@code cc}. SASS is binary compatible only within one major version and only forward: sm_80 code
     * runs on 8.0, 8.6 and 8.9, never on 9.0 or 12.0, and sm_86 code not on 8.0. Architecture-specific code
     * ({@code sm_90a}) runs on exactly its architecture; a target with another suffix is never taken.
     */
    static boolean runsCubin(String sm, int cc) {
        if (!sm.matches("sm_[0-9]+a?")) {
            return false;
        }
        int n = archNumber(sm);
        return sm.endsWith("a") ? n == cc : n / 10 == cc / 10 && n <= cc;
    }

    /**
     * The architecture-specific targets ({@code compute_90a}) {@code module} is built for, when it is built for
     * nothing else: from the packaged PTX, or from its source's {@code tpk-arch} lines when no PTX is packaged.
     */
    List<String> archSpecificTargets(String module) {
        List<String> targets = new ArrayList<>(archs(module));
        if (targets.isEmpty() && hasSource(module)) {
            for (String line : source(module).split("\n")) {
                String l = line.strip();
                if (l.startsWith("// tpk-arch:")) {
                    targets.add(l.substring("// tpk-arch:".length()).strip().split("\\s+")[0]);
                }
            }
        }
        return !targets.isEmpty() && targets.stream().allMatch(a -> a.endsWith("a")) ? targets : List.of();
    }

    private static boolean isUsableOn(String arch, int cc) {
        int n = archNumber(arch);
        // Arch-specific PTX (the "a" suffix) runs only on exactly that architecture; generic PTX runs on it and later.
        return arch.endsWith("a") ? n == cc : n <= cc;
    }

    static int archNumber(String arch) {
        String digits = arch.replaceAll("[^0-9]", "");
        if (digits.isEmpty()) {
            throw new IllegalArgumentException("not a PTX architecture: " + arch);
        }
        return Integer.parseInt(digits);
    }

    /**
     * The PTX text of {@code module} for {@code arch}.
     *
     * @param module the kernel module
     * @param arch a packaged architecture ({@code compute_80})
     * @return the PTX text
     * @throws IllegalStateException when that PTX is not packaged
     */
    public String ptx(String module, String arch) {
        return text(PTX_DIR + module + "." + arch + ".ptx")
                .orElseThrow(() -> new IllegalStateException("packaged PTX " + module + "." + arch + ".ptx is missing"));
    }

    /**
     * The machine code of {@code module} for the SASS target {@code sm}, as {@code ptxas} wrote it.
     *
     * @param module the kernel module
     * @param sm a packaged SASS target ({@code sm_90a})
     * @return the cubin bytes
     * @throws IllegalStateException when that cubin is not packaged
     */
    public byte[] cubin(String module, String sm) {
        return bytes(CUBIN_DIR + module + "." + sm + ".cubin").orElseThrow(
                () -> new IllegalStateException("packaged cubin " + module + "." + sm + ".cubin is missing"));
    }

    /**
     * The CUDA source of {@code module}.
     *
     * @param module the kernel module
     * @return the {@code .cu} text
     * @throws IllegalStateException when the source is not packaged
     */
    public String source(String module) {
        return text(CU_DIR + module + ".cu").orElseThrow(() -> new IllegalStateException(
                "kernel source " + module + ".cu is not packaged (is tpkernels-cuda-src on the class path?)"));
    }

    /**
     * Every packaged header ({@code .cuh}) by include name, for NVRTC.
     *
     * @return the headers' texts by file name, in index order
     */
    public Map<String, String> headers() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String f : sourceFiles) {
            if (f.endsWith(".cuh")) {
                out.put(f, text(CU_DIR + f).orElseThrow());
            }
        }
        return out;
    }

    private static List<String> lines(String resource) {
        return text(resource).map(s -> List.of(s.split("\n"))).orElse(List.of());
    }

    private static Optional<String> text(String resource) {
        return bytes(resource).map(b -> new String(b, StandardCharsets.UTF_8));
    }

    private static Optional<byte[]> bytes(String resource) {
        ClassLoader loader = PtxLibrary.class.getClassLoader();
        try (InputStream in = loader == null ? ClassLoader.getSystemResourceAsStream(resource)
                : loader.getResourceAsStream(resource)) {
            return in == null ? Optional.empty() : Optional.of(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read resource " + resource, e);
        }
    }
}
