package io.tpkernels.bench.cases;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * Where {@code --plot} writes: a {@code .png} or {@code .svg} file in a folder that exists and is writable,
 * checked before anything is measured. The file is written whole or not at all: into a hidden file beside it,
 * then renamed over it.
 */
record PlotFile(Path path, Format format) {

    enum Format { png, svg }

    /** What goes into the file. */
    @FunctionalInterface
    interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * The plot file at {@code path}.
     *
     * @throws IllegalArgumentException naming the path, if its extension is neither {@code .png} nor {@code .svg},
     *                                  its folder does not exist, is no folder or is not writable, or it is a folder
     */
    static PlotFile of(Path path) {
        String name = path.getFileName() == null ? "" : path.getFileName().toString();
        String extension = name.contains(".") ? name.substring(name.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT) : "";
        Format format = switch (extension) {
            case "png" -> Format.png;
            case "svg" -> Format.svg;
            default -> throw new IllegalArgumentException("--plot " + path + ": the file name must end in .png or .svg");
        };
        Path folder = folder(path);
        if (!Files.exists(folder)) {
            throw new IllegalArgumentException("--plot " + path + ": folder " + folder + " does not exist");
        }
        if (!Files.isDirectory(folder)) {
            throw new IllegalArgumentException("--plot " + path + ": " + folder + " is not a folder");
        }
        if (!Files.isWritable(folder)) {
            throw new IllegalArgumentException("--plot " + path + ": folder " + folder + " is not writable");
        }
        if (Files.isDirectory(path)) {
            throw new IllegalArgumentException("--plot " + path + " is a folder, not a file");
        }
        return new PlotFile(path, format);
    }

    private static Path folder(Path path) {
        return path.toAbsolutePath().getParent();
    }

    /**
     * Writes {@code content} to the file, replacing it whole; if anything fails, the file is as it was and
     * nothing is left beside it.
     *
     * @throws IllegalArgumentException naming the path and the reason, when the file cannot be written
     */
    void write(Content content) {
        Path part = folder(path).resolve("." + path.getFileName() + "." + ProcessHandle.current().pid() + ".part");
        boolean renamed = false;
        try {
            try (OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                content.writeTo(out);
            }
            Files.move(part, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            renamed = true;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot write the plot to " + path + ": " + e, e);
        } finally {
            if (!renamed) {
                deletePart(part);
            }
        }
    }

    private static void deletePart(Path part) {
        try {
            Files.deleteIfExists(part);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the unfinished plot " + part, e);
        }
    }
}
