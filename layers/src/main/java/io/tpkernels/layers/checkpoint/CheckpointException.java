package io.tpkernels.layers.checkpoint;

import io.tpkernels.layers.weights.WeightException;

/**
 * A checkpoint that cannot be read or written: missing, unreadable, or breaking a rule of the safetensors format (the
 * contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#14-safetensors">section 14</a>).
 * The message is one sentence naming the file, the entry (tensor) where there is one, and what was wrong. A
 * {@link WeightException}, so that a layer's caller handles one kind of failure for every weight it cannot use.
 */
public final class CheckpointException extends WeightException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with this message.
     *
     * @param message one sentence naming the file, the entry (tensor) where there is one, and what was wrong
     */
    public CheckpointException(String message) {
        super(message);
    }

    /**
     * An exception with this message and cause.
     *
     * @param message one sentence naming the file, the entry (tensor) where there is one, and what was wrong
     * @param cause the failure behind it (an {@link java.io.IOException}, a JSON syntax error, the JVM's error for an
     *     unreadable mapped page)
     */
    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
