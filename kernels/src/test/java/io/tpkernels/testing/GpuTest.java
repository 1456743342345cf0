package io.tpkernels.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class or method that needs a CUDA device: tagged {@code gpu} (select or exclude with
 * {@code --include-tag gpu}), and reported as skipped, with the reason, where no device is found. Device 0
 * may be the CPU emulator (the emulated-gpu test runs): tests it cannot serve, because of their size or
 * because they measure the hardware, say {@code emulator = false}.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("gpu")
@ExtendWith(GpuCondition.class)
public @interface GpuTest {
    /** Whether the test also runs on the CPU emulator of a CUDA device (correctness on small shapes). */
    boolean emulator() default true;
}
