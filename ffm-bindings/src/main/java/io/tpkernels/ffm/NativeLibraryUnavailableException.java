package io.tpkernels.ffm;

/**
 * Thrown by a binding whose library or symbol could not be loaded. The message is one sentence saying
 * what was looked for and where.
 */
public final class NativeLibraryUnavailableException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with the given one-sentence reason.
     *
     * @param reason one sentence: what was looked for, and where
     */
    public NativeLibraryUnavailableException(String reason) {
        super(reason);
    }
}
