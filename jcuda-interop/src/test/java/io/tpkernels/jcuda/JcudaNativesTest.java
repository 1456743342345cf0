package io.tpkernels.jcuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.tpkernels.ffm.cuda.CudaDriver;
import org.junit.jupiter.api.Test;

/** JCuda's native loading failures as one sentence. */
class JcudaNativesTest {

    /** JCuda 12.6.0's message on a host without the CUDA driver, as it printed it (stack frames left out). */
    private static final String NO_DRIVER = """
            Error while loading native library "JCudaDriver-12.6.0-linux-x86_64"
            Operating system name: Linux
            Architecture         : amd64
            Architecture bit size: 64
            ---(start of nested stack traces)---
            Stack trace from the attempt to load the library as a file:
            java.lang.UnsatisfiedLinkError: no JCudaDriver-12.6.0-linux-x86_64 in java.library.path: /usr/lib64:/lib64
            \tat java.base/java.lang.ClassLoader.loadLibrary(ClassLoader.java:2285)
            Stack trace from the attempt to load the library as a resource:
            java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open \
            shared object file: No such file or directory
            \tat java.base/jdk.internal.loader.NativeLibraries.load(Native Method)
            ---(end of nested stack traces)---
            """;

    /** The same without the natives jar on the class path. */
    private static final String NO_NATIVES_JAR = """
            Error while loading native library "JCudaDriver-12.6.0-linux-x86_64"
            ---(start of nested stack traces)---
            Stack trace from the attempt to load the library as a file:
            java.lang.UnsatisfiedLinkError: no JCudaDriver-12.6.0-linux-x86_64 in java.library.path: /usr/lib64:/lib64
            Stack trace from the attempt to load the library as a resource:
            java.io.IOException: No resource found with name '/lib/libJCudaDriver-12.6.0-linux-x86_64.so'
            ---(end of nested stack traces)---
            """;

    /** The same with the natives extracted to a folder on java.library.path (as the module path needs). */
    private static final String NO_DRIVER_FROM_LIBRARY_PATH = """
            Error while loading native library "JCudaDriver-12.6.0-linux-x86_64"
            ---(start of nested stack traces)---
            Stack trace from the attempt to load the library as a file:
            java.lang.UnsatisfiedLinkError: /opt/jcuda/lib/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: \
            cannot open shared object file: No such file or directory
            Stack trace from the attempt to load the library as a resource:
            java.io.IOException: No resource found with name '/lib/libJCudaDriver-12.6.0-linux-x86_64.so'
            ---(end of nested stack traces)---
            """;

    private static void assertOneSentenceSaying(String message, String detail) {
        assertTrue(message.contains(detail), message);
        assertFalse(message.contains("\n"), message);
        assertTrue(message.startsWith("JCuda 12.6.0 cannot load its native driver binding"), message);
    }

    @Test
    void aMissingDriverIsNamed() {
        assertOneSentenceSaying(JcudaNatives.explain(new UnsatisfiedLinkError(NO_DRIVER)),
                "(/tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open shared object file");
    }

    @Test
    void aMissingNativesJarIsNamed() {
        assertOneSentenceSaying(JcudaNatives.explain(new UnsatisfiedLinkError(NO_NATIVES_JAR)),
                "No resource found with name '/lib/libJCudaDriver-12.6.0-linux-x86_64.so'");
    }

    @Test
    void aLibraryFoundButNotLoadableOutweighsOneNotFound() {
        assertOneSentenceSaying(JcudaNatives.explain(new UnsatisfiedLinkError(NO_DRIVER_FROM_LIBRARY_PATH)),
                "(/opt/jcuda/lib/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open shared object file");
    }

    @Test
    void aSecondTouchFindsTheFirstFailureInItsCause() {
        // What the JVM throws when JCudaDriver is touched after its static initializer failed.
        var later = new NoClassDefFoundError("Could not initialize class jcuda.driver.JCudaDriver");
        later.initCause(new ExceptionInInitializerError("Exception java.lang.UnsatisfiedLinkError: " + NO_DRIVER
                + " [in thread \"main\"]"));
        assertOneSentenceSaying(JcudaNatives.explain(later), "libcuda.so.1: cannot open shared object file");
    }

    @Test
    void withoutADriverOpeningADeviceFailsInOneSentence() {
        assumeFalse(CudaDriver.isAvailable(), "a CUDA driver is loaded here");
        var e = assertThrows(IllegalStateException.class, () -> JcudaDevice.of(0));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        String jcuda = JcudaNatives.unavailableReason().orElseThrow();
        assertFalse(jcuda.contains("\n"), jcuda);
        assertTrue(jcuda.contains("libcuda.so.1"), jcuda);
    }
}
