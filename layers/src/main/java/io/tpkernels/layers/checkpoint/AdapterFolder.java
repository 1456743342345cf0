package io.tpkernels.layers.checkpoint;

import io.tpkernels.runtime.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Writes a PEFT adapter folder ({@code adapter_config.json}, {@code adapter_model.safetensors}) all or nothing (the
 * contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#export">section 9, "Export"</a>):
 * both files go into a temporary folder beside the target, are forced to disk, and the folder is renamed to the
 * target's name. A reader, {@code tpk forward --lora} included, sees the whole folder or none. An existing target is
 * refused, before anything is written and again at the rename: an export never deletes what is there, which may be the
 * adapter a run started from.
 */
public final class AdapterFolder {
    /** The configuration's file name, as PEFT names it. */
    public static final String CONFIG = "adapter_config.json";
    /** The tensors' file name, as PEFT names it. */
    public static final String WEIGHTS = "adapter_model.safetensors";
    /** The safetensors metadata PEFT's files carry (the torch writer's). */
    private static final Map<String, String> METADATA = Map.of("format", "pt");

    private AdapterFolder() {
    }

    /**
     * Writes {@code config} (the JSON text) and {@code tensors} (in name order, as PEFT's writer orders them) as the
     * new folder {@code folder}. The safetensors file carries the metadata {@code {"format": "pt"}}, as PEFT's do.
     *
     * @param folder  the folder to create; its parent must exist
     * @param config  the {@code adapter_config.json} text ({@link io.tpkernels.layers.config.AdapterConfigWriter}),
     *                written as UTF-8
     * @param tensors the adapter's tensors by name, on the host or a GPU; read, not closed: they stay the caller's
     * @throws CheckpointException naming the folder when it exists already or cannot be written, or naming the tensor
     *                             when a name is empty or {@code __metadata__} or a tensor cannot be read; nothing is
     *                             then left behind, neither the target nor the temporary folder
     */
    public static void write(Path folder, String config, Map<String, Tensor> tensors) {
        write(folder, config, tensors, () -> { });
    }

    /** As {@link #write(Path, String, Map)}, running {@code beforeRename} last before the rename (a test's failure). */
    static void write(Path folder, String config, Map<String, Tensor> tensors, Runnable beforeRename) {
        Path target = folder.toAbsolutePath().normalize();
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw exists(target);
        }
        Path temporary = target.resolveSibling("." + target.getFileName() + "."
                + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
        try {
            Files.createDirectory(temporary);
        } catch (IOException e) {
            throw new CheckpointException(target + " cannot be written: " + e, e);
        }
        boolean renamed = false;
        try {
            writeForced(temporary.resolve(CONFIG), config.getBytes(StandardCharsets.UTF_8));
            SafetensorsWriter.write(temporary.resolve(WEIGHTS), new TreeMap<>(tensors), METADATA);
            force(temporary);
            beforeRename.run();
            Files.move(temporary, target); // a rename within the folder; fails, not replaces, if the target appeared
            renamed = true;
            force(target.getParent());
        } catch (FileAlreadyExistsException e) {
            throw exists(target);
        } catch (IOException e) {
            throw new CheckpointException(target + " cannot be written: " + e, e);
        } finally {
            if (!renamed) {
                deleteQuietly(temporary);
            }
        }
    }

    private static CheckpointException exists(Path target) {
        return new CheckpointException(target + " exists; an adapter export never replaces a folder: remove it or "
                + "export to another name");
    }

    private static void writeForced(Path file, byte[] bytes) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
    }

    /** Forces a folder's entries to disk where the platform can (Linux can; some cannot open a folder at all). */
    private static void force(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // the rename's atomicity does not depend on it, only its durability across a power cut
        }
    }

    /** Best effort while another failure is already on its way to the caller, which matters more. */
    private static void deleteQuietly(Path temporary) {
        try (Stream<Path> walk = Files.walk(temporary)) {
            List<Path> deepestFirst = walk.sorted(Comparator.reverseOrder()).toList();
            for (Path p : deepestFirst) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // nothing more can be done; the original failure is reported
        }
    }
}
