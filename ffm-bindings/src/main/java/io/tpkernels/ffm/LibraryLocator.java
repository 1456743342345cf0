package io.tpkernels.ffm;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where CUDA's libraries are looked for, in order:
 * <ol>
 *   <li>{@code TPK_CUDA_LIBRARY_PATH} (folders separated by {@code :}), the user's explicit choice;</li>
 *   <li>{@code CUDA_HOME} and {@code CUDA_PATH} ({@code lib64}, {@code lib}, {@code targets/*}{@code /lib});</li>
 *   <li>the folders of {@code LD_LIBRARY_PATH}, then the dynamic loader's own search by bare name
 *       ({@code ld.so.cache}), which is how a driver installed by the system package is found;</li>
 *   <li>standard folders ({@code /usr/lib/x86_64-linux-gnu}, {@code /usr/local/cuda/lib64}, ...);</li>
 *   <li>Python wheel folders ({@code site-packages/nvidia/*}{@code /lib}) of virtual environments, conda
 *       and system Pythons, where pip installs cuBLAS, NCCL and NVRTC.</li>
 * </ol>
 * Only the toolkit's {@code lib64/stubs} is never searched: its {@code libcuda.so} fails every call.
 */
public final class LibraryLocator {

    /**
     * The folders to search, in order, each with the source that named it.
     *
     * @param folder the folder
     * @param source what named it ({@code "CUDA_HOME"}, {@code "standard folder"}, ...)
     */
    public record Candidate(Path folder, String source) {
    }

    private static final List<String> STANDARD_FOLDERS = List.of(
            "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
            "/usr/local/nvidia/lib64", "/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib",
            "/usr/lib/wsl/lib");

    private final Map<String, String> env;
    private final Path userHome;

    /** A locator over the process environment. */
    public LibraryLocator() {
        this(System.getenv(), Path.of(System.getProperty("user.home", "/")));
    }

    /**
     * A locator over the given environment (for tests).
     *
     * @param env the environment variables
     * @param userHome the user's home, under which Python environments are looked for
     */
    public LibraryLocator(Map<String, String> env, Path userHome) {
        this.env = Map.copyOf(env);
        this.userHome = userHome;
    }

    /**
     * The folders searched before the loader's own search, in order.
     *
     * @return the candidates
     */
    public List<Candidate> explicitFolders() {
        List<Candidate> out = new ArrayList<>();
        for (String dir : pathList("TPK_CUDA_LIBRARY_PATH")) {
            out.add(new Candidate(Path.of(dir), "TPK_CUDA_LIBRARY_PATH"));
        }
        for (String var : List.of("CUDA_HOME", "CUDA_PATH")) {
            String home = env.get(var);
            if (home == null || home.isBlank()) {
                continue;
            }
            Path root = Path.of(home);
            for (Path lib : List.of(root.resolve("lib64"), root.resolve("lib"))) {
                out.add(new Candidate(lib, var));
            }
            for (Path target : children(root.resolve("targets"))) {
                out.add(new Candidate(target.resolve("lib"), var));
            }
        }
        for (String dir : pathList("LD_LIBRARY_PATH")) {
            out.add(new Candidate(Path.of(dir), "LD_LIBRARY_PATH"));
        }
        return out;
    }

    /**
     * The folders searched after the loader's own search, in order.
     *
     * @return the candidates
     */
    public List<Candidate> fallbackFolders() {
        List<Candidate> out = new ArrayList<>();
        for (String dir : STANDARD_FOLDERS) {
            out.add(new Candidate(Path.of(dir), "standard folder"));
        }
        for (Path sitePackages : sitePackages()) {
            for (Path pkg : children(sitePackages.resolve("nvidia"))) {
                out.add(new Candidate(pkg.resolve("lib"), "Python wheel"));
            }
        }
        return out;
    }

    /**
     * The first existing file for {@code name} in {@code folders}, in folder order then file-name order.
     *
     * @param folders the folders, in search order
     * @param name the library and its file names
     * @return the file, or empty when no folder holds one
     */
    public static Optional<Path> firstIn(List<Candidate> folders, LibraryName name) {
        for (Candidate c : folders) {
            for (String file : name.fileNames()) {
                Path p = c.folder().resolve(file);
                if (Files.isRegularFile(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }

    /**
     * A short description of everything searched, for the one-sentence "not found" message.
     *
     * @return the description
     */
    public String describeSearch() {
        List<String> parts = new ArrayList<>();
        parts.add("TPK_CUDA_LIBRARY_PATH" + shown("TPK_CUDA_LIBRARY_PATH"));
        parts.add("CUDA_HOME" + shown("CUDA_HOME"));
        parts.add("CUDA_PATH" + shown("CUDA_PATH"));
        parts.add("LD_LIBRARY_PATH" + shown("LD_LIBRARY_PATH") + " and the loader's cache");
        parts.add(String.join(", ", STANDARD_FOLDERS));
        parts.add("Python wheel folders site-packages/nvidia/*/lib");
        return String.join("; ", parts);
    }

    private String shown(String var) {
        String v = env.get(var);
        return v == null || v.isBlank() ? " (unset)" : " (" + v + ")";
    }

    private List<String> pathList(String var) {
        String v = env.get(var);
        if (v == null || v.isBlank()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String part : v.split(":")) {
            if (!part.isBlank()) {
                out.add(part);
            }
        }
        return out;
    }

    private List<Path> sitePackages() {
        Set<Path> roots = new LinkedHashSet<>();
        for (String var : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
            String v = env.get(var);
            if (v != null && !v.isBlank()) {
                roots.add(Path.of(v));
            }
        }
        for (Path opt : children(Path.of("/opt"))) {
            roots.add(opt.resolve(".venv"));
            roots.add(opt);
        }
        roots.add(userHome.resolve(".local"));
        roots.add(Path.of("/usr/local"));
        roots.add(Path.of("/usr"));
        List<Path> out = new ArrayList<>();
        for (Path root : roots) {
            for (Path python : children(root.resolve("lib"))) {
                if (python.getFileName().toString().startsWith("python3")) {
                    out.add(python.resolve("site-packages"));
                    out.add(python.resolve("dist-packages"));
                }
            }
        }
        return out;
    }

    private static List<Path> children(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                if (Files.isDirectory(p)) {
                    out.add(p);
                }
            }
        } catch (IOException | SecurityException e) {
            return List.of();
        }
        out.sort(null);
        return out;
    }
}
