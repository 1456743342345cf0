package io.tpkernels.runtime;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Says once per JVM, through {@link System.Logger} (which an application routes to its own logging), why no GPU is
 * used: code that picks "the GPU if there is one" would otherwise run on the CPU without a word.
 */
final class NoGpuNotice {

    /** The notice of this JVM, on the logger {@code io.tpkernels.runtime}. */
    static final NoGpuNotice JVM = new NoGpuNotice(System.getLogger("io.tpkernels.runtime"));

    private final System.Logger logger;
    private final AtomicBoolean told = new AtomicBoolean();

    NoGpuNotice(System.Logger logger) {
        this.logger = logger;
    }

    /** Logs {@code absence}, unless this notice has already been given. */
    void tell(GpuAbsence absence) {
        if (told.compareAndSet(false, true)) {
            logger.log(absence.level(), "no GPU can be used: " + absence.reason());
        }
    }

    /** Whether the notice has been given. */
    boolean told() {
        return told.get();
    }
}
