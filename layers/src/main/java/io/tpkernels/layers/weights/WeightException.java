package io.tpkernels.layers.weights;

/**
 * A weight that cannot be used as asked: missing, of the wrong shape or dtype, or unreadable. The message
 * names the source, the tensor and what was wrong, in one sentence.
 */
public class WeightException extends IllegalArgumentException {
    public WeightException(String message) {
        super(message);
    }

    public WeightException(String message, Throwable cause) {
        super(message, cause);
    }
}
