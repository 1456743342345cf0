package io.tpkernels.layers.checkpoint;

import io.tpkernels.layers.weights.TensorInfo;
import io.tpkernels.layers.weights.TensorRead;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.runtime.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Set;

/**
 * One safetensors file (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#reading-safetensorsfile-safetensorscheckpoint">section 14</a>),
 * mapped read-only as a whole: an 8-byte little-endian header length {@code n}, {@code n} bytes of JSON, then the data.
 * The header is validated completely when the file is opened, before any tensor is read, so every view lies inside the
 * file and shares no byte with another view.
 *
 * <p>Views are zero-copy slices of one mapping in a shared arena: every rank thread of a process reads the same
 * pages, and reads are thread-safe. A copy that reads through {@link #read} lets the pages it has passed go
 * once every read in flight over them has passed them; the header's pages go once it is parsed. The caller owns the
 * file and closes it, which unmaps it: close it once no copy from it is in progress; a view used afterwards throws
 * {@link IllegalStateException}.
 */
public final class SafetensorsFile implements WeightSource {
    /**
     * The largest header accepted, in bytes, as in the reference implementation: anything larger is corrupt or
     * hostile.
     */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    /** Bytes of the header length field. */
    static final int LENGTH_FIELD_BYTES = 8;

    private static final ValueLayout.OfLong LITTLE_ENDIAN_LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final SafetensorsHeader header;
    /** The file's size when it was mapped. */
    private final long mappedBytes;
    /** The reads of the mapping, whose pages they release; null for bytes in memory (not mapped). */
    private final MappedReads reads;

    private SafetensorsFile(Path path, Arena arena, MemorySegment data, SafetensorsHeader header, long mappedBytes,
                            MappedReads reads) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.header = header;
        this.mappedBytes = mappedBytes;
        this.reads = reads;
    }

    /**
     * Maps and validates {@code file}: the header is read and checked completely before this returns.
     *
     * @param file a safetensors file
     * @return the mapped file, owned by the caller
     * @throws CheckpointException naming the file (and the entry) if it is missing, a directory or not a regular file,
     *                             unreadable, changed while being opened, or breaks a rule of the format; nothing
     *                             stays mapped then
     */
    public static SafetensorsFile open(Path file) {
        Arena arena = Arena.ofShared();
        try {
            return of(file, arena, map(file, arena));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        } catch (InternalError e) {
            // The JVM's report of a mapped page without bytes behind it: the file was cut short since mapped.
            arena.close();
            throw new CheckpointException(file + " cannot be read: the file changed while it was opened", e);
        }
    }

    /**
     * The safetensors file whose bytes are {@code bytes}, named {@code name} in messages: what {@link #open} reads
     * from a file, read from memory (for the fuzz tests, which run it millions of times).
     */
    static SafetensorsFile ofBytes(byte[] bytes, String name) {
        Arena arena = Arena.ofConfined();
        try {
            return of(Path.of(name), arena, MemorySegment.ofArray(bytes));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Validates the file {@code mapped}, whose lifetime is {@code arena}'s: the caller closes it on failure. */
    private static SafetensorsFile of(Path file, Arena arena, MemorySegment mapped) {
        long size = mapped.byteSize();
        if (size < LENGTH_FIELD_BYTES) {
            throw new CheckpointException(file + " is " + size + " bytes long, too short for the "
                    + LENGTH_FIELD_BYTES + "-byte header length");
        }
        long headerBytes = mapped.get(LITTLE_ENDIAN_LONG, 0);
        // Unsigned: a length with the top bit set is a huge number, not a negative one.
        if (Long.compareUnsigned(headerBytes, MAX_HEADER_BYTES) > 0) {
            throw new CheckpointException(file + ": header length " + Long.toUnsignedString(headerBytes)
                    + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (headerBytes > size - LENGTH_FIELD_BYTES) {
            throw new CheckpointException(file + ": header length " + headerBytes + " exceeds the "
                    + (size - LENGTH_FIELD_BYTES) + " bytes after the length field");
        }
        byte[] json = mapped.asSlice(LENGTH_FIELD_BYTES, headerBytes).toArray(ValueLayout.JAVA_BYTE);
        MemorySegment data = mapped.asSlice(LENGTH_FIELD_BYTES + headerBytes);
        SafetensorsHeader header = SafetensorsHeader.parse(json, data.byteSize(), file.toString());
        MappedReads reads = null;
        if (mapped.isMapped()) {
            reads = new MappedReads(mapped);
            reads.release(0, LENGTH_FIELD_BYTES + headerBytes); // read once, into the header's objects
        }
        return new SafetensorsFile(file, arena, data, header, size, reads);
    }

    private static MemorySegment map(Path file, Arena arena) {
        if (Files.isDirectory(file)) {
            throw new CheckpointException(file + " is a directory, not a safetensors file");
        }
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            // A FIFO would block the open; a device has no size to map.
            throw new CheckpointException(file + " is not a regular file");
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            // The mapping belongs to the arena and outlives the channel.
            return channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file + " does not exist", e);
        } catch (IOException e) {
            throw new CheckpointException(file + " cannot be read: " + e.getMessage(), e);
        }
    }

    /**
     * The file it maps.
     *
     * @return the path it was opened with
     */
    public Path path() {
        return path;
    }

    /**
     * Names the file in messages.
     *
     * @return the file's path
     */
    @Override
    public String describe() {
        return path.toString();
    }

    /**
     * The names of every tensor of the file.
     *
     * @return the names, unmodifiable, in header order ({@code __metadata__} is not a tensor)
     */
    @Override
    public Set<String> names() {
        return header.entries().keySet();
    }

    @Override
    public TensorInfo info(String name) {
        return entry(name).info();
    }

    /**
     * A zero-copy host view of {@code name} inside the mapping, valid until this file is closed.
     *
     * @param name a tensor name
     * @return the view, in the file's dtype and shape; not owned: closing it frees nothing
     * @throws CheckpointException naming the file and the tensor when there is no such tensor
     * @throws IllegalStateException when the file was closed
     */
    @Override
    public Tensor view(String name) {
        SafetensorsHeader.Entry e = entry(name);
        if (!arena.scope().isAlive()) {
            throw new IllegalStateException(path + " was closed; tensor \"" + name + "\" can no longer be read");
        }
        return Tensor.wrap(data.asSlice(e.begin(), e.end() - e.begin()), e.info().dtype(), e.info().shape());
    }

    /**
     * A read of {@code name}'s view over its bytes {@code [firstByte, endByte)}, which releases the pages behind
     * it as every read in flight over them passes them.
     *
     * @param name a tensor name
     * @param firstByte the first byte of the view the copy reads
     * @param endByte one past the last byte it reads
     * @return the read, to close when the copy is done
     * @throws CheckpointException naming the file and the tensor when there is no such tensor
     * @throws IllegalArgumentException when {@code [firstByte, endByte)} is not within the tensor's bytes
     * @throws IllegalStateException when the file was closed
     */
    @Override
    public TensorRead read(String name, long firstByte, long endByte) {
        Tensor view = view(name);
        if (firstByte < 0 || endByte < firstByte || endByte > view.byteSize()) {
            throw new IllegalArgumentException("bytes [" + firstByte + ", " + endByte + ") of " + path + ": "
                    + entry(name).info().describe());
        }
        if (reads == null) {
            return TensorRead.of(view);
        }
        long dataStart = mappedBytes - data.byteSize(); // the data follow the header, to the end of the file
        return reads.open(view, dataStart + entry(name).begin(), firstByte, endByte);
    }

    /**
     * The file's error for a view of {@code name} that could not be read: the JVM's {@link InternalError} for a
     * page of the mapping that no longer has bytes behind it, the file having been cut short (or replaced) since it
     * was opened. Names the file, the tensor, and the file's size then and now.
     *
     * @param name the tensor whose copy failed
     * @param fault what the JVM threw
     * @return the exception to throw, with {@code fault} as its cause
     */
    @Override
    public CheckpointException unreadable(String name, Throwable fault) {
        String now;
        try {
            now = "it is now " + Files.size(path) + " bytes, " + mappedBytes + " when opened";
        } catch (IOException e) {
            now = "it cannot be read now: " + e.getMessage();
        }
        return new CheckpointException(path + ": " + CheckpointJson.entryLabel(name) + " cannot be read: the file changed while in"
                + " use (" + now + ")", fault);
    }

    /**
     * The free-form strings of the header's {@code __metadata__} ({@code {"format": "pt"}} from PyTorch's writer).
     *
     * @return the strings, unmodifiable, in header order; empty if it has none
     */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    private SafetensorsHeader.Entry entry(String name) {
        SafetensorsHeader.Entry e = header.entries().get(name);
        if (e == null) {
            throw new CheckpointException(path + " has no tensor \"" + name + "\"");
        }
        return e;
    }

    /** Unmaps the file; views handed out throw {@link IllegalStateException} from then on. Closing twice is harmless. */
    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) {
            if (reads == null) {
                arena.close();
            } else {
                reads.closing(arena::close); // never while a release is under way
            }
        }
    }
}
