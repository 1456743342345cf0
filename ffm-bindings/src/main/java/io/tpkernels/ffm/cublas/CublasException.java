package io.tpkernels.ffm.cublas;

/** A cuBLAS call returned a non-zero {@code cublasStatus_t}; the message names it, the call and its arguments. */
public final class CublasException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The {@code cublasStatus_t}. */
    private final int status;
    /** Its symbolic name. */
    private final String statusName;

    /**
     * An exception for a failed call.
     *
     * @param status the {@code cublasStatus_t}
     * @param call   the call with its key arguments
     */
    public CublasException(int status, String call) {
        this(status, Cublas.statusName(status), call);
    }

    private CublasException(int status, String name, String call) {
        super(call + " failed: " + name + " (" + status + ")");
        this.status = status;
        this.statusName = name;
    }

    /**
     * The raw {@code cublasStatus_t}.
     *
     * @return the status
     */
    public int status() {
        return status;
    }

    /**
     * The symbolic name, e.g. {@code CUBLAS_STATUS_INVALID_VALUE}.
     *
     * @return the name
     */
    public String statusName() {
        return statusName;
    }
}
