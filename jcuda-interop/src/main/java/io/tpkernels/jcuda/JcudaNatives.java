package io.tpkernels.jcuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import jcuda.JCudaVersion;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * Whether JCuda's native driver binding works here, decided once. The first touch of {@link JCudaDriver} loads
 * {@code libJCudaDriver-VERSION-OS-ARCH.so} (from {@code java.library.path}, else extracted from the
 * {@code jcuda-natives} jar), which links against the CUDA driver {@code libcuda.so.1}. When that fails JCuda
 * throws an {@link UnsatisfiedLinkError} holding a page of nested stack traces, and every later touch a
 * {@link NoClassDefFoundError}; here it becomes one sentence, the same for every caller.
 */
final class JcudaNatives {
    /** A line of JCuda's nested traces that names an exception and its message: the message is the reason. */
    private static final Pattern EXCEPTION_LINE = Pattern.compile("^(?:[a-z]\\w*\\.)+\\w+(?:Error|Exception): (.+)$",
            Pattern.MULTILINE);

    private JcudaNatives() {
    }

    private static final class Load {
        static final String FAILURE = load();
    }

    private static String load() {
        try {
            int status = JCudaDriver.cuInit(0);
            return status == CUresult.CUDA_SUCCESS ? null
                    : "JCuda is not usable: cuInit(0) failed with " + CUresult.stringFor(status);
        } catch (LinkageError e) {
            return explain(e);
        }
    }

    /** Why JCuda cannot be used here, in one sentence; empty when it can. */
    static Optional<String> unavailableReason() {
        return Optional.ofNullable(Load.FAILURE);
    }

    /** Throws {@link IllegalStateException} with the one-sentence reason unless JCuda is usable. */
    static void requireAvailable() {
        if (Load.FAILURE != null) {
            throw new IllegalStateException(Load.FAILURE);
        }
    }

    /**
     * One sentence from JCuda's loading error. JCuda tries the library as a file on {@code java.library.path}, then
     * as a resource of the natives jar, and reports both attempts as exception lines. The one that says most is an
     * attempt that found the library but could not load it ({@code libcuda.so.1: cannot open shared object file});
     * when neither found it, the last line ({@code No resource found}: no natives jar for this platform). The causes
     * are searched too, for the {@link NoClassDefFoundError} of a second touch.
     */
    static String explain(Throwable error) {
        List<String> reasons = new ArrayList<>();
        String firstLine = null;
        for (Throwable t = error; t != null; t = t.getCause()) {
            String message = t.getMessage() == null ? "" : t.getMessage();
            EXCEPTION_LINE.matcher(message).results().forEach(m -> reasons.add(m.group(1).strip()));
            if (firstLine == null && !message.isBlank()) {
                firstLine = message.lines().findFirst().orElseThrow().strip();
            }
        }
        String reason = reasons.stream().filter(r -> !isNotFound(r)).findFirst()
                .orElse(reasons.isEmpty() ? Objects.requireNonNullElse(firstLine, error.getClass().getName())
                        : reasons.getLast());
        return "JCuda " + JCudaVersion.get() + " cannot load its native driver binding (" + reason
                + "): it needs the CUDA driver libcuda.so.1 and org.jcuda:jcuda-natives for this platform on the class"
                + " path, which Maven Central has for linux-x86_64 and windows-x86_64 only";
    }

    /** Whether a reason only says that the library was not where JCuda looked. */
    private static boolean isNotFound(String reason) {
        return reason.startsWith("no ") || reason.startsWith("No resource found");
    }
}
