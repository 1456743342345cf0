package io.tpkernels.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Token ids from the command line ({@code 1,2,3}) or a file (separated by commas, spaces or newlines). */
final class TokenIds {
    private TokenIds() {
    }

    /** The ids in {@code text}; {@code source} names it in errors ("--tokens", a file). */
    static long[] parse(String text, String source) {
        String trimmed = text.strip();
        if (trimmed.isEmpty()) {
            throw new IllegalArgumentException(source + " holds no token ids");
        }
        String[] parts = trimmed.split("[,\\s]+");
        long[] ids = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Long.parseLong(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(source + ": token " + (i + 1) + " '" + parts[i] + "' is not an integer");
            }
        }
        return ids;
    }

    /** The ids in {@code file}. */
    static long[] read(Path file) {
        try {
            return parse(Files.readString(file), file.toString());
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + " does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException(file + " cannot be read: " + e.getMessage());
        }
    }
}
