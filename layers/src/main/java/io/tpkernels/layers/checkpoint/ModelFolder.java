package io.tpkernels.layers.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * The files a model or adapter folder holds ({@code config.json}, {@code model.safetensors}, the files an index
 * lists): each must be a regular file inside the folder. A symbolic link that leads out of the folder is refused,
 * as a {@code ..} in an index is: a downloaded folder cannot make the reader open {@code /etc/passwd} or a device,
 * and nothing that is not a regular file (a FIFO, which would block the reader) is opened.
 *
 * <p>One way out is allowed, because the Hugging Face hub client lays its cache out that way: in a snapshot
 * folder {@code REPO/snapshots/REVISION/} the files are links into {@code REPO/blobs/}.
 */
public final class ModelFolder {
    /** The folder of a cache snapshot, under the repository folder, beside {@value #BLOBS}. */
    private static final String SNAPSHOTS = "snapshots";
    /** Where a cache snapshot's links lead. */
    private static final String BLOBS = "blobs";

    private ModelFolder() {
    }

    /**
     * {@code folder/name}, checked: a regular file, itself or through links, inside {@code folder} (or inside the
     * cache's blobs when {@code folder} is a hub cache snapshot). A file that does not exist is returned as is, for
     * its reader to report, and so is a directory, whose reader says what it expected instead.
     *
     * @param folder the model or adapter folder
     * @param name   a file name in it, as a config or an index gives it
     * @return {@code folder.resolve(name)}, checked (not resolved: messages name the file as the folder holds it)
     * @throws CheckpointException naming the file (and where it leads) when {@code name} is not a valid file name,
     *                             the file leads out of the folder, is not a regular file (a FIFO, a device), or
     *                             cannot be resolved
     */
    public static Path file(Path folder, String name) {
        Path file;
        try {
            file = folder.resolve(name);
        } catch (InvalidPathException e) {
            throw new CheckpointException(folder + ": " + CheckpointJson.printable(name) + " is not a file name: "
                    + e.getReason(), e);
        }
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return file;
        }
        Path real;
        Path root;
        try {
            real = file.toRealPath();
            root = folder.toRealPath();
        } catch (IOException e) {
            // A link that leads nowhere: its reader says "does not exist" (with the link's name).
            if (!Files.exists(file)) {
                return file;
            }
            throw new CheckpointException(file + " cannot be read: " + e, e);
        }
        if (!real.startsWith(root) && !isCacheBlob(root, real)) {
            throw new CheckpointException(file + " is a symbolic link to " + real + ", outside the folder " + folder);
        }
        // A directory goes on to its reader, which says what it expected instead.
        if (!Files.isRegularFile(real) && !Files.isDirectory(real)) {
            throw new CheckpointException(file + " is not a regular file"
                    + (Files.isSymbolicLink(file) ? " (it leads to " + real + ")" : ""));
        }
        return file;
    }

    /** Whether {@code real} is in the blobs of the hub cache repository whose snapshot {@code root} is. */
    private static boolean isCacheBlob(Path root, Path real) {
        Path snapshots = root.getParent();
        if (snapshots == null || snapshots.getFileName() == null
                || !snapshots.getFileName().toString().equals(SNAPSHOTS) || snapshots.getParent() == null) {
            return false;
        }
        return real.startsWith(snapshots.getParent().resolve(BLOBS));
    }
}
