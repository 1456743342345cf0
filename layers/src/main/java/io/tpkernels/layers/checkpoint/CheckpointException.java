package io.tpkernels.layers.checkpoint;

import io.tpkernels.layers.weights.WeightException;

/**
 * A checkpoint that cannot be read or written: missing, unreadable, or breaking a rule of the safetensors format
 * (docs/contract.md section 14). The message is one sentence naming the file, the entry (tensor) where there is one,
 * and what was wrong.
 */
public final class CheckpointException extends WeightException {
    private static final long serialVersionUID = 1L;

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
