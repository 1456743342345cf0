package io.tpkernels.ffm.cublas;

/** A cuBLAS call returned a non-zero {@code cublasStatus_t}; the message names it, the call and its arguments. */
public final class CublasException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String statusName;

    /**
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

    public int status() {
        return status;
    }

    /** The symbolic name, e.g. {@code CUBLAS_STATUS_INVALID_VALUE}. */
    public String statusName() {
        return statusName;
    }
}
