package io.tpkernels.layers.json;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;

/**
 * Text the parser takes and {@link JsonReader} refuses (a repeated key, a spelling of NaN Python does not write,
 * more after the value), with the reason already in the project's words and where in the text it is.
 */
final class RefusedJsonException extends JsonParseException {
    private static final long serialVersionUID = 1L;

    private final String reason;

    /** Refuses the token {@code p} is on. */
    RefusedJsonException(JsonParser p, String reason) {
        super(p, reason, p.currentTokenLocation());
        this.reason = reason;
    }

    /** "the field \"r\" appears twice". */
    String reason() {
        return reason;
    }
}
