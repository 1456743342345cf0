package io.tpkernels.collective;

/**
 * A collective could not complete: a rank failed, a rank did not arrive within the group's timeout, or the ranks
 * disagreed on shapes. Every rank of the group gets one, naming the cause; none hangs and none gets a partial
 * result as success.
 */
public final class CollectiveException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with this message.
     *
     * @param message what failed, naming the rank and the collective
     */
    public CollectiveException(String message) {
        super(message);
    }

    /**
     * An exception with this message and cause.
     *
     * @param message what failed, naming the rank and the collective
     * @param cause the failure behind it, such as the failing rank's own exception
     */
    public CollectiveException(String message, Throwable cause) {
        super(message, cause);
    }
}
