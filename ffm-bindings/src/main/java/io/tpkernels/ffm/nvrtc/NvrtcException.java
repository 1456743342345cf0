package io.tpkernels.ffm.nvrtc;

/** An NVRTC call failed; for a compilation error the message carries the compiler's log. */
public final class NvrtcException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The {@code nvrtcResult}. */
    private final int status;

    /**
     * An exception for a failed call.
     *
     * @param status the {@code nvrtcResult}
     * @param call   the call and its key arguments
     * @param detail the compiler log or the library's description
     */
    public NvrtcException(int status, String call, String detail) {
        super(call + " failed: " + Nvrtc.resultName(status) + " (" + status + ")"
                + (detail == null || detail.isBlank() ? "" : ": " + detail.strip()));
        this.status = status;
    }

    /**
     * The raw {@code nvrtcResult}.
     *
     * @return the status
     */
    public int status() {
        return status;
    }
}
