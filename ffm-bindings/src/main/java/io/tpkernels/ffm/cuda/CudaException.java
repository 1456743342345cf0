package io.tpkernels.ffm.cuda;

/**
 * A CUDA driver call returned a non-zero {@code CUresult}. The message carries the symbolic name
 * ({@code CUDA_ERROR_OUT_OF_MEMORY}), the driver's description, the call and its key arguments.
 */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The {@code CUresult}. */
    private final int status;
    /** Its symbolic name. */
    private final String statusName;
    /** The failed call with its key arguments. */
    private final String call;

    /**
     * An exception for a failed call; the name and description come from the driver.
     *
     * @param status the {@code CUresult}
     * @param call   the function and its key arguments, e.g. {@code cuMemAlloc_v2(bytes=1024)}
     */
    public CudaException(int status, String call) {
        this(status, CudaDriver.errorName(status), CudaDriver.errorString(status), call);
    }

    /**
     * An exception for a failed call, with what the caller knows besides.
     *
     * @param status the {@code CUresult}
     * @param call   the function and its key arguments
     * @param detail what the caller knows beyond the driver, appended to the message
     */
    public CudaException(int status, String call, String detail) {
        this(status, CudaDriver.errorName(status), CudaDriver.errorString(status), call, detail);
    }

    CudaException(int status, String statusName, String description, String call) {
        this(status, statusName, description, call, null);
    }

    private CudaException(int status, String statusName, String description, String call, String detail) {
        super(call + " failed: " + statusName + " (" + status + ")"
                + (description == null || description.isEmpty() ? "" : ": " + description)
                + (detail == null ? "" : "; " + detail));
        this.status = status;
        this.statusName = statusName;
        this.call = call;
    }

    /**
     * The raw {@code CUresult}.
     *
     * @return the status
     */
    public int status() {
        return status;
    }

    /**
     * The symbolic name, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}.
     *
     * @return the name
     */
    public String statusName() {
        return statusName;
    }

    /**
     * The failed call with its key arguments.
     *
     * @return the call
     */
    public String call() {
        return call;
    }
}
