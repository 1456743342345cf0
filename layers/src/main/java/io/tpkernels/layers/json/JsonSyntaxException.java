package io.tpkernels.layers.json;

/**
 * Text that is not JSON, or not the one JSON value a file holds. The message is in the project's words and says
 * where: {@code line 1, column 9: expected ',' or '}', found '"'} ({@link JsonErrors}); readers put the file's name
 * before it.
 */
public final class JsonSyntaxException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    JsonSyntaxException(String message, Throwable cause) {
        super(message, cause);
    }
}
