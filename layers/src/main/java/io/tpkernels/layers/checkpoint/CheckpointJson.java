package io.tpkernels.layers.checkpoint;

import io.tpkernels.layers.json.JsonValue;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** The decoding shared by safetensors headers and index files, and the wording of JSON in messages. */
final class CheckpointJson {
    /** Longest piece of JSON quoted in a message: a corrupt header may hold megabytes in one value. */
    private static final int QUOTE_LIMIT = 60;

    private CheckpointJson() {
    }

    /**
     * {@code bytes} decoded as UTF-8, strictly: JSON files and safetensors headers are UTF-8, and the parser, given
     * bytes, would guess UTF-16 or UTF-32 from the first ones and fail outside its own exceptions.
     *
     * @throws CheckpointException "{@code what} is not UTF-8: byte 0xC3 at offset 17" otherwise
     */
    static String utf8(byte[] bytes, String what) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length); // UTF-8 never decodes to more chars than bytes
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            throw new CheckpointException(what + " is not UTF-8: byte 0x"
                    + String.format(Locale.ROOT, "%02X", bytes[in.position()] & 0xff) + " at offset " + in.position());
        }
        return out.flip().toString();
    }

    /** {@code node} as JSON text, cut short for a message. */
    static String quote(JsonValue node) {
        String text = node.toString();
        return text.length() <= QUOTE_LIMIT ? text : text.substring(0, QUOTE_LIMIT) + "...";
    }

    /** "tensor \"w\"" for messages, or "\"__metadata__\"" for the metadata entry. */
    static String entryLabel(String name) {
        return SafetensorsHeader.METADATA_KEY.equals(name) ? "\"" + name + "\"" : "tensor \"" + printable(name) + "\"";
    }

    /**
     * {@code text} with its control characters (U+0000 to U+001F, U+007F) written as JSON writes them (a NUL as
     * the six characters backslash, u, 0, 0, 0, 0): a name from a hostile file cannot break a one-line message or
     * write control sequences to the terminal.
     */
    static String printable(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (isControl(c)) {
                if (out == null) {
                    out = new StringBuilder(text.length() + 16).append(text, 0, i);
                }
                out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? text : out.toString();
    }

    /** Whether {@code text} holds a control character (U+0000 to U+001F, U+007F). */
    static boolean hasControl(String text) {
        return text.chars().anyMatch(c -> isControl((char) c));
    }

    private static boolean isControl(char c) {
        return c < 0x20 || c == 0x7f;
    }
}
