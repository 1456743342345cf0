package io.tpkernels.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The sentence for a JVM without native access names the flag value that grants it, each word once. */
class NativeAccessDeniedTest {

    @Test
    void aNamedModuleIsNamedOnce() {
        assertEquals("native access is not enabled for module java.base: start the JVM with"
                + " --enable-native-access=java.base", NativeLibrary.nativeAccessDenied(Object.class.getModule()));
    }

    @Test
    void theClassPathGetsAllUnnamed() {
        Module unnamed = NativeAccessDeniedTest.class.getClassLoader().getUnnamedModule();
        assertEquals("native access is not enabled for the class path: start the JVM with"
                + " --enable-native-access=ALL-UNNAMED", NativeLibrary.nativeAccessDenied(unnamed));
    }
}
