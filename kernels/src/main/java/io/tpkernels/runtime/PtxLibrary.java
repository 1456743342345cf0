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
 * ({@code tpkernels-ptx/NAME.ARCH.ptx}, listed in {@code tpkernels-ptx/index.txt}) and the {@code .cu} sources
 * ({@code tpkernels-cu/}) for NVRTC.
 */
public final class PtxLibrary {

    /** One way to get a module's code for a device: a packaged PTX for {@code arch}, or NVRTC. */
    public record Choice(String module, String arch, boolean nvrtc) {
        @Override
        public String toString() {
            return nvrtc ? module + ".cu via NVRTC for " + arch : module + "." + arch + ".ptx";
        }
    }

    private static final String PTX_DIR = "tpkernels-ptx/";
    private static final String CU_DIR = "tpkernels-cu/";

    private final Map<String, List<String>> archsByModule;
    private final List<String> sourceFiles;

    private PtxLibrary(Map<String, List<String>> archsByModule, List<String> sourceFiles) {
        this.archsByModule = archsByModule;
        this.sourceFiles = sourceFiles;
    }

    private static final class Packaged {
        static final PtxLibrary INSTANCE = load();
    }

    /** The library packaged on the class or module path. */
    public static PtxLibrary packaged() {
        return Packaged.INSTANCE;
    }

    private static PtxLibrary load() {
        Map<String, List<String>> archs = new LinkedHashMap<>();
        for (String line : lines(PTX_DIR + "index.txt")) {
            String[] parts = line.strip().split("\\s+");
            if (parts.length == 2) {
                archs.computeIfAbsent(parts[0], k -> new ArrayList<>()).add(parts[1]);
            }
        }
        List<String> sources = lines(CU_DIR + "index.txt").stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
        return new PtxLibrary(archs, sources);
    }

    /** A library with the given PTX index and no resources behind it (for tests of {@link #choices}). */
    static PtxLibrary ofIndex(Map<String, List<String>> archsByModule) {
        return new PtxLibrary(Map.copyOf(archsByModule), List.of());
    }

    /** The architectures packaged as PTX for {@code module} ({@code compute_80}, {@code compute_90a}). */
    public List<String> archs(String module) {
        return archsByModule.getOrDefault(module, List.of());
    }

    /** Whether the source of {@code module} is packaged. */
    public boolean hasSource(String module) {
        return sourceFiles.contains(module + ".cu");
    }

    /**
     * The ways to obtain {@code module} for a device of compute capability {@code cc} ({@code 10·major+minor}),
     * best first: the PTX specific to exactly this architecture ({@code compute_90a} on sm_90), then generic PTX
     * for the newest architecture not above {@code cc}, then the source through NVRTC for {@code compute_cc}.
     * PTX for an architecture above the device is never chosen. With {@code nvrtcOnly}, only the last.
     *
     * <p>A module built only for architecture-specific targets (its source says {@code // tpk-arch: compute_90a};
     * Hopper's wgmma and setmaxnreg exist nowhere else) has no choice at all on other devices, and NVRTC compiles
     * it for {@code compute_cc} with the {@code a} suffix.
     */
    public List<Choice> choices(String module, int cc, boolean nvrtcOnly) {
        List<Choice> out = new ArrayList<>();
        if (!nvrtcOnly) {
            archs(module).stream()
                    .filter(a -> isUsableOn(a, cc))
                    .sorted(Comparator.comparing((String a) -> !a.endsWith("a")).thenComparing(a -> -archNumber(a)))
                    .forEach(a -> out.add(new Choice(module, a, false)));
        }
        List<String> specific = archSpecificTargets(module);
        if (specific.isEmpty()) {
            out.add(new Choice(module, "compute_" + cc, true));
        } else if (specific.stream().anyMatch(a -> archNumber(a) == cc)) {
            out.add(new Choice(module, "compute_" + cc + "a", true));
        }
        return out;
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

    /** The PTX text of {@code module} for {@code arch}. */
    public String ptx(String module, String arch) {
        return text(PTX_DIR + module + "." + arch + ".ptx")
                .orElseThrow(() -> new IllegalStateException("packaged PTX " + module + "." + arch + ".ptx is missing"));
    }

    /** The CUDA source of {@code module}. */
    public String source(String module) {
        return text(CU_DIR + module + ".cu").orElseThrow(() -> new IllegalStateException(
                "kernel source " + module + ".cu is not packaged (is tpkernels-cuda-src on the class path?)"));
    }

    /** Every packaged header ({@code .cuh}) by include name, for NVRTC. */
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
        ClassLoader loader = PtxLibrary.class.getClassLoader();
        try (InputStream in = loader == null ? ClassLoader.getSystemResourceAsStream(resource)
                : loader.getResourceAsStream(resource)) {
            return in == null ? Optional.empty() : Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read resource " + resource, e);
        }
    }
}
