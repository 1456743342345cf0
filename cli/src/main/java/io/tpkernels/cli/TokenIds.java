package io.tpkernels.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Token ids from the command line or a file, in exactly this grammar (and nothing else: no sign, no empty entry,
 * no digit outside ASCII, no other separator):
 *
 * <ul>
 *   <li>an id is one to {@value #MAX_DIGITS} ASCII digits {@code 0-9};</li>
 *   <li>{@code --tokens}: ids separated by commas, each optionally with spaces or tabs around it:
 *       {@code 1,2,3} or {@code "1, 2, 3"};</li>
 *   <li>{@code --tokens-file}: ASCII text of ids separated by commas, whitespace (space, tab, CR, LF) or both, with
 *       at most one comma between two ids and none before the first or after the last: one id per line, or a
 *       list {@code 1, 2, 3}, each with or without a final newline;</li>
 *   <li>at most {@value #MAX_IDS} ids (a file at most {@value #MAX_FILE_BYTES} bytes).</li>
 * </ul>
 * Whether an id is inside the vocabulary is checked later, against the model.
 */
final class TokenIds {
    /** The most ids in one run: a 128 Ki-token sequence. */
    static final int MAX_IDS = 131_072;
    /** Digits of the largest id: any 18-digit number fits a long. */
    static final int MAX_DIGITS = 18;
    /** Room for {@link #MAX_IDS} ids of many digits with their separators. */
    static final int MAX_FILE_BYTES = 4 << 20;

    /** Whitespace between ids in a file. */
    private static final Pattern FILE_SEPARATOR = Pattern.compile("[ \\t\\r\\n]*,[ \\t\\r\\n]*|[ \\t\\r\\n]+");
    /** The longest piece of bad input quoted in a message. */
    private static final int QUOTE_LIMIT = 24;

    private TokenIds() {
    }

    /** The ids of {@code --tokens}. */
    static long[] parse(String text) {
        String source = "--tokens";
        if (isBlank(text)) {
            throw new IllegalArgumentException(source + " holds no token ids");
        }
        String[] entries = text.split(",", -1);
        long[] ids = ids(entries.length, source);
        for (int i = 0; i < entries.length; i++) {
            ids[i] = id(stripSpacesAndTabs(entries[i]), i, source, "ids are separated by single commas");
        }
        return ids;
    }

    /** The ids in {@code text}, the contents of the file {@code source}. */
    static long[] parseFile(String text, String source) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c > 0x7e || (c < 0x20 && c != '\t' && c != '\r' && c != '\n')) {
                throw new IllegalArgumentException(source + ": character " + (i + 1) + " ("
                        + String.format("U+%04X", (int) c) + ") is not a digit, comma or ASCII whitespace");
            }
        }
        String trimmed = text.strip(); // ASCII only by now: the same as stripping spaces, tabs, CR and LF
        if (trimmed.isEmpty()) {
            throw new IllegalArgumentException(source + " holds no token ids");
        }
        String[] entries = FILE_SEPARATOR.split(trimmed, -1);
        long[] ids = ids(entries.length, source);
        for (int i = 0; i < entries.length; i++) {
            ids[i] = id(entries[i], i, source, "ids are separated by whitespace or one comma");
        }
        return ids;
    }

    /** The ids in {@code file}. */
    static long[] read(Path file) {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_FILE_BYTES + 1);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + " does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException(file + " cannot be read: " + e.getMessage());
        }
        if (bytes.length > MAX_FILE_BYTES) {
            throw new IllegalArgumentException(file + " is larger than " + MAX_FILE_BYTES + " bytes, more than "
                    + MAX_IDS + " token ids need");
        }
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] < 0) {
                throw new IllegalArgumentException(file + ": byte " + (i + 1) + " (0x"
                        + Integer.toHexString(bytes[i] & 0xff).toUpperCase(java.util.Locale.ROOT)
                        + ") is not ASCII; token ids are ASCII digits");
            }
        }
        return parseFile(new String(bytes, StandardCharsets.US_ASCII), file.toString());
    }

    private static long[] ids(int count, String source) {
        if (count > MAX_IDS) {
            throw new IllegalArgumentException(source + " holds " + count + " token ids, more than " + MAX_IDS);
        }
        return new long[count];
    }

    /** Entry {@code i} (from 0) of {@code source}, which must be an id. */
    private static long id(String entry, int i, String source, String separators) {
        String where = source + ": token " + (i + 1);
        if (entry.isEmpty()) {
            throw new IllegalArgumentException(where + " is empty (" + separators + ")");
        }
        for (int k = 0; k < entry.length(); k++) {
            char c = entry.charAt(k);
            if (c < '0' || c > '9') {
                throw new IllegalArgumentException(where + " '" + quote(entry) + "' is not an integer: token ids are"
                        + " ASCII digits 0-9, without a sign (" + separators + ")");
            }
        }
        if (entry.length() > MAX_DIGITS) {
            throw new IllegalArgumentException(where + " '" + quote(entry) + "' is too large: at most " + MAX_DIGITS
                    + " digits");
        }
        return Long.parseLong(entry);
    }

    private static boolean isBlank(String text) {
        return stripSpacesAndTabs(text).isEmpty();
    }

    private static String stripSpacesAndTabs(String text) {
        int from = 0;
        int to = text.length();
        while (from < to && (text.charAt(from) == ' ' || text.charAt(from) == '\t')) {
            from++;
        }
        while (to > from && (text.charAt(to - 1) == ' ' || text.charAt(to - 1) == '\t')) {
            to--;
        }
        return text.substring(from, to);
    }

    /** {@code text} cut short, with control characters and non-ASCII as {@code U+XXXX}, for a one-line message. */
    private static String quote(String text) {
        StringBuilder out = new StringBuilder();
        text.codePoints().limit(QUOTE_LIMIT).forEach(c -> {
            if (c >= 0x20 && c < 0x7f) {
                out.append((char) c);
            } else {
                out.append(String.format("<U+%04X>", c));
            }
        });
        return text.codePointCount(0, text.length()) > QUOTE_LIMIT ? out + "..." : out.toString();
    }
}
