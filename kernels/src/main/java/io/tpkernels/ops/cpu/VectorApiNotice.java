package io.tpkernels.ops.cpu;

import java.lang.System.Logger.Level;
import java.lang.reflect.InvocationTargetException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Says once per JVM, through {@link System.Logger} (logger {@code io.tpkernels.ops.cpu}), that the CPU GEMM runs
 * its scalar kernels and why: without {@code jdk.incubator.vector} they run 1.6 to 2.6 times slower, and the only
 * sign would otherwise be the time. Both {@link DotKernels} and {@link RowKernels} report here, and one notice covers
 * both.
 */
final class VectorApiNotice {

    /** The module the fast kernels need. */
    static final String MODULE = "jdk.incubator.vector";

    /** The notice of this JVM. */
    static final VectorApiNotice JVM = new VectorApiNotice(System.getLogger("io.tpkernels.ops.cpu"));

    /** What to log: how loudly, and the sentence. */
    record Message(Level level, String text) {
    }

    private final System.Logger logger;
    private final AtomicBoolean told = new AtomicBoolean();

    VectorApiNotice(System.Logger logger) {
        this.logger = logger;
    }

    /** Whether the Vector API's module is in this JVM. */
    static boolean moduleLoaded() {
        return ModuleLayer.boot().findModule(MODULE).isPresent();
    }

    /**
     * The message for scalar kernels chosen with the module {@code loaded} or not, and {@code refused} the error
     * of the Vector API kernels when the module was there but they could not be made (vectors too narrow to gain
     * anything, a JVM whose incubator API differs). Only a missing module is the user's to fix, so only it warns.
     */
    static Message scalar(boolean loaded, Throwable refused) {
        if (!loaded) {
            return new Message(Level.WARNING, "the CPU GEMM runs without the Vector API, 1.6 to 2.6 times slower: "
                    + MODULE + " is not in this JVM; start it with --add-modules " + MODULE);
        }
        Throwable cause = refused instanceof InvocationTargetException e && e.getCause() != null ? e.getCause() : refused;
        return new Message(Level.INFO, "the CPU GEMM runs without the Vector API: "
                + (cause == null ? "its kernels could not be made" : cause.getMessage() != null ? cause.getMessage()
                : cause.toString()));
    }

    /** Logs that the scalar kernels run (see {@link #scalar}), unless this notice has already been given. */
    void tellScalar(boolean loaded, Throwable refused) {
        if (told.compareAndSet(false, true)) {
            Message m = scalar(loaded, refused);
            logger.log(m.level(), m.text());
        }
    }

    /** Whether the notice has been given. */
    boolean told() {
        return told.get();
    }
}
