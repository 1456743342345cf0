package io.tpkernels.layers.weights;

/**
 * A weight that cannot be used as asked: missing, of the wrong shape or dtype, or unreadable. The message
 * names the source, the tensor and what was wrong, in one sentence.
 */
public class WeightException extends IllegalArgumentException {
    /**
     * An exception with this message.
     *
     * @param message one sentence naming the source, the tensor and what was wrong
     */
    public WeightException(String message) {
        super(message);
    }

    /**
     * An exception with this message and cause.
     *
     * @param message one sentence naming the source, the tensor and what was wrong
     * @param cause the failure behind it (the JVM's error for an unreadable mapped page, say)
     */
    public WeightException(String message, Throwable cause) {
        super(message, cause);
    }
}
