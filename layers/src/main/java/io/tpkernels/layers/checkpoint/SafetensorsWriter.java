package io.tpkernels.layers.checkpoint;

import io.tpkernels.layers.json.JsonWriter;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a safetensors file (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#writing-safetensorswriter">section 14</a>)
 * all or nothing: the file is written beside its target under a temporary name, forced to disk, then renamed over the
 * target. On any failure the temporary file is deleted, so a reader sees either the old file (or none) or the complete
 * new one, never a partial one.
 */
public final class SafetensorsWriter {
    /** Tensor data is written in slices of at most this many bytes: a ByteBuffer holds at most 2^31 - 1. */
    private static final long WRITE_SLICE_BYTES = 1L << 30;

    private SafetensorsWriter() {
    }

    /**
     * Writes {@code tensors} (host or GPU, in map order) and {@code metadata} to {@code file}, replacing it.
     * Like the reference writer, the JSON header is padded with spaces so the data starts at a multiple of 8. Each
     * tensor is written in its own dtype and shape; a GPU tensor is copied to the host one at a time, so the extra
     * host memory is at most one tensor's.
     *
     * @param file     the file to write or replace; its folder must exist
     * @param tensors  the tensors by name, on the host or a GPU; read, not closed: they stay the caller's
     * @param metadata the header's {@code __metadata__} strings, none when empty
     * @throws CheckpointException naming the file (and tensor) if a name is null, empty or {@code __metadata__}, a
     *                             tensor or a metadata key or value is null, the header would be over
     *                             {@link SafetensorsFile#MAX_HEADER_BYTES}, a tensor cannot be read, or the file
     *                             cannot be written; the target is then untouched and no temporary file remains
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        ByteBuffer header = header(file, tensors, metadata);
        Path temporary = file.toAbsolutePath().resolveSibling(
                "." + file.getFileName() + "." + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36)
                        + ".tmp");
        FileChannel channel;
        try {
            channel = FileChannel.open(temporary, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw cannotWrite(file, e);
        }
        boolean inPlace = false;
        try {
            try (channel) {
                writeFully(channel, header);
                for (Map.Entry<String, Tensor> t : tensors.entrySet()) {
                    writeTensor(channel, file, t.getKey(), t.getValue());
                }
                channel.force(true);
            }
            moveIntoPlace(temporary, file);
            inPlace = true;
        } catch (IOException e) {
            throw cannotWrite(file, e);
        } finally {
            if (!inPlace) {
                deleteQuietly(temporary);
            }
        }
    }

    /** The length field and the padded JSON header, ready to write. */
    private static ByteBuffer header(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        Map<String, Object> root = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            Map<String, String> meta = new LinkedHashMap<>();
            root.put(SafetensorsHeader.METADATA_KEY, meta);
            metadata.forEach((key, value) -> {
                if (key == null || value == null) {
                    throw new CheckpointException(file + ": metadata " + key + " = " + value + " is not a pair of strings");
                }
                meta.put(key, value);
            });
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            Tensor t = e.getValue();
            if (name == null || name.isEmpty() || name.equals(SafetensorsHeader.METADATA_KEY)) {
                throw new CheckpointException(file + ": a tensor cannot be named " + (name == null ? "null" : "\"" + name + "\""));
            }
            if (t == null) {
                throw new CheckpointException(file + ": tensor \"" + name + "\" is null");
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", t.dtype().safetensorsName());
            entry.put("shape", Arrays.stream(t.shape()).boxed().toList());
            entry.put("data_offsets", List.of(offset, offset + t.byteSize()));
            root.put(name, entry);
            offset += t.byteSize();
        }
        byte[] json;
        try {
            json = JsonWriter.utf8(root);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file + ": the header cannot be written as JSON: " + e.getMessage(), e);
        }
        int padded = (json.length + 7) & ~7;
        if (padded > SafetensorsFile.MAX_HEADER_BYTES) {
            throw new CheckpointException(file + ": the header would be " + padded + " bytes, over the limit of "
                    + SafetensorsFile.MAX_HEADER_BYTES + " that readers accept");
        }
        ByteBuffer buffer = ByteBuffer.allocate(SafetensorsFile.LENGTH_FIELD_BYTES + padded).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(padded).put(json);
        while (buffer.hasRemaining()) {
            buffer.put((byte) ' ');
        }
        return buffer.flip();
    }

    private static void writeTensor(FileChannel channel, Path file, String name, Tensor tensor) throws IOException {
        try {
            if (tensor.device().isCuda()) {
                try (Tensor host = tensor.copyTo(Device.CPU)) {
                    writeSegment(channel, host.hostSegment());
                }
            } else {
                writeSegment(channel, tensor.hostSegment());
            }
        } catch (RuntimeException e) {
            throw new CheckpointException(file + ": tensor \"" + name + "\" cannot be read: " + e.getMessage(), e);
        }
    }

    private static void writeSegment(FileChannel channel, MemorySegment segment) throws IOException {
        for (long at = 0; at < segment.byteSize(); at += WRITE_SLICE_BYTES) {
            writeFully(channel, segment.asSlice(at, Math.min(WRITE_SLICE_BYTES, segment.byteSize() - at)).asByteBuffer());
        }
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /** Renames atomically where the file system can, else replaces: either way readers never see a partial file. */
    private static void moveIntoPlace(Path temporary, Path file) throws IOException {
        try {
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Best effort while another failure is already on its way to the caller, which matters more. */
    private static void deleteQuietly(Path temporary) {
        try {
            Files.deleteIfExists(temporary);
        } catch (IOException ignored) {
            // nothing more can be done; the original failure is reported
        }
    }

    private static CheckpointException cannotWrite(Path file, IOException e) {
        return new CheckpointException(file + " cannot be written: " + e, e);
    }
}
