package io.tpkernels.ffm.nccl;

/** An NCCL call returned a non-zero {@code ncclResult_t}; the message names it, the call and its arguments. */
public final class NcclException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The {@code ncclResult_t}. */
    private final int result;

    /**
     * An exception for a failed call.
     *
     * @param result the {@code ncclResult_t}
     * @param call   the call with its key arguments
     */
    public NcclException(int result, String call) {
        super(call + " failed: " + Nccl.resultName(result) + " (" + result + ")" + describe(result));
        this.result = result;
    }

    private static String describe(int result) {
        String s = Nccl.errorString(result);
        return s.isEmpty() ? "" : ": " + s;
    }

    /**
     * The raw {@code ncclResult_t}.
     *
     * @return the result
     */
    public int result() {
        return result;
    }
}
