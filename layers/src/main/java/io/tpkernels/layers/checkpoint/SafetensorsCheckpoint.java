package io.tpkernels.layers.checkpoint;

import static io.tpkernels.layers.checkpoint.CheckpointJson.entryLabel;
import static io.tpkernels.layers.checkpoint.CheckpointJson.quote;

import io.tpkernels.layers.json.JsonObject;
import io.tpkernels.layers.json.JsonReader;
import io.tpkernels.layers.json.JsonString;
import io.tpkernels.layers.json.JsonSyntaxException;
import io.tpkernels.layers.json.JsonValue;
import io.tpkernels.layers.weights.TensorInfo;
import io.tpkernels.layers.weights.TensorRead;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.runtime.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face safetensors checkpoint: one {@value #SINGLE_FILE}, or tensors spread over several files named by the
 * {@code weight_map} of a {@value #INDEX_FILE}
 * ({@code {"metadata": {...}, "weight_map": {"tensor": "file.safetensors", ...}}}). Each file is mapped once
 * ({@link SafetensorsFile}) and the whole checkpoint is checked when opened: every listed tensor is in the file the
 * index names, no tensor is in two files, and no file holds a tensor the index does not list (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#reading-safetensorsfile-safetensorscheckpoint">section 14</a>).
 * An index may name only files beside it, and a file it names may not lead out of its folder ({@link ModelFolder}).
 *
 * <p>The caller owns the checkpoint and closes it, which unmaps every file: close it once no copy from it is in
 * progress; a view used afterwards throws {@link IllegalStateException}. Until then it is shared by every rank thread
 * of the process and is safe to read from several threads.
 */
public final class SafetensorsCheckpoint implements WeightSource {
    /** The file of a checkpoint that is not split. */
    public static final String SINGLE_FILE = "model.safetensors";
    /** The index of a checkpoint split over several files. */
    public static final String INDEX_FILE = "model.safetensors.index.json";
    /**
     * The largest index read, in bytes, as large as the largest header: the indexes of the largest models are a few
     * MB.
     */
    public static final long MAX_INDEX_BYTES = SafetensorsFile.MAX_HEADER_BYTES;

    private final String description;
    private final Map<String, SafetensorsFile> fileOfTensor;
    private final List<SafetensorsFile> files;

    private SafetensorsCheckpoint(String description, Map<String, SafetensorsFile> fileOfTensor,
                                  List<SafetensorsFile> files) {
        this.description = description;
        this.fileOfTensor = Collections.unmodifiableMap(fileOfTensor);
        this.files = List.copyOf(files);
    }

    /**
     * Opens {@code path}: a safetensors file, an index file ({@code *.index.json}), or a directory holding
     * {@value #SINGLE_FILE} or else {@value #INDEX_FILE} (the order the Hugging Face loaders look in). Every file is
     * mapped and its header checked now, before any tensor is read.
     *
     * @param path a safetensors file, an index, or a model folder
     * @return the checkpoint, owned by the caller
     * @throws CheckpointException naming the file, the tensor and what was wrong: a file missing, unreadable, not a
     *                             regular file or breaking a rule of the format; an index that is not UTF-8 JSON,
     *                             larger than {@link #MAX_INDEX_BYTES}, without a {@code weight_map} object, mapping a
     *                             tensor to anything but a file beside it, or disagreeing with its files; a folder
     *                             with neither file. Nothing stays mapped then.
     */
    public static SafetensorsCheckpoint open(Path path) {
        if (Files.isDirectory(path)) {
            Path single = ModelFolder.file(path, SINGLE_FILE);
            Path index = ModelFolder.file(path, INDEX_FILE);
            if (Files.exists(single)) {
                return ofFile(single);
            }
            if (Files.exists(index)) {
                return ofIndex(index);
            }
            throw new CheckpointException(path + " holds neither " + SINGLE_FILE + " nor " + INDEX_FILE);
        }
        return path.getFileName().toString().endsWith(".index.json") ? ofIndex(path) : ofFile(path);
    }

    private static SafetensorsCheckpoint ofFile(Path file) {
        SafetensorsFile opened = SafetensorsFile.open(file);
        Map<String, SafetensorsFile> fileOfTensor = new LinkedHashMap<>();
        opened.names().forEach(name -> fileOfTensor.put(name, opened));
        return new SafetensorsCheckpoint(file.toString(), fileOfTensor, List.of(opened));
    }

    private static SafetensorsCheckpoint ofIndex(Path index) {
        Map<String, String> weightMap = weightMap(index);
        Map<String, SafetensorsFile> byFileName = new LinkedHashMap<>();
        try {
            Map<String, SafetensorsFile> fileOfTensor = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                String tensor = e.getKey();
                SafetensorsFile file = byFileName.get(e.getValue());
                if (file == null) {
                    file = openListed(index, tensor, e.getValue());
                    byFileName.put(e.getValue(), file);
                }
                if (!file.contains(tensor)) {
                    throw new CheckpointException(index + ": " + entryLabel(tensor) + " is mapped to " + e.getValue()
                            + ", which does not hold it");
                }
                fileOfTensor.put(tensor, file);
            }
            for (Map.Entry<String, SafetensorsFile> f : byFileName.entrySet()) {
                for (String tensor : f.getValue().names()) {
                    String listed = weightMap.get(tensor);
                    if (listed == null) {
                        throw new CheckpointException(index + ": " + entryLabel(tensor) + " is in " + f.getKey()
                                + " but not in the weight_map");
                    }
                    if (!listed.equals(f.getKey())) {
                        throw new CheckpointException(index + ": " + entryLabel(tensor) + " is in both " + listed
                                + " and " + f.getKey());
                    }
                }
            }
            return new SafetensorsCheckpoint(index.toString(), fileOfTensor, new ArrayList<>(byFileName.values()));
        } catch (RuntimeException e) {
            byFileName.values().forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static SafetensorsFile openListed(Path index, String tensor, String fileName) {
        Path folder = index.getParent() != null ? index.getParent() : Path.of("");
        try {
            return SafetensorsFile.open(ModelFolder.file(folder, fileName));
        } catch (CheckpointException e) {
            throw new CheckpointException(index + ": " + entryLabel(tensor) + " is mapped to "
                    + CheckpointJson.printable(fileName) + ", which cannot be opened: " + e.getMessage(), e);
        }
    }

    /** The index's tensor-to-file map, in order, each file a plain name in the index's directory. */
    private static Map<String, String> weightMap(Path index) {
        JsonValue root;
        try {
            if (Files.exists(index) && !Files.isRegularFile(index)) {
                throw new CheckpointException(index + " is not a regular file");
            }
            long size = Files.size(index);
            if (size > MAX_INDEX_BYTES) {
                throw new CheckpointException(index + " is " + size + " bytes long, more than the " + MAX_INDEX_BYTES
                        + " an index may be");
            }
            root = JsonReader.STRICT.read(CheckpointJson.utf8(Files.readAllBytes(index), index.toString()));
        } catch (JsonSyntaxException e) {
            throw new CheckpointException(index + " is not valid JSON: " + e.getMessage(), e);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(index + " does not exist", e);
        } catch (IOException e) {
            throw new CheckpointException(index + " cannot be read: " + e.getMessage(), e);
        }
        if (!(root instanceof JsonObject object)) {
            throw new CheckpointException(index + " is not a JSON object");
        }
        if (!(object.get("weight_map") instanceof JsonObject map)) {
            throw new CheckpointException(index + " has no \"weight_map\" object");
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonValue> e : map.members().entrySet()) {
            JsonValue file = e.getValue();
            if (CheckpointJson.hasControl(e.getKey())) {
                throw new CheckpointException(index + ": " + entryLabel(e.getKey())
                        + " has a control character in its name");
            }
            if (!(file instanceof JsonString name && isPlainFileName(name.value()))) {
                throw new CheckpointException(index + ": " + entryLabel(e.getKey()) + " is mapped to " + quote(file)
                        + ", not the name of a file beside the index");
            }
            weightMap.put(e.getKey(), name.value());
        }
        return weightMap;
    }

    /**
     * Whether {@code name} names a file in the index's own directory: an index may not point elsewhere (and a link
     * there may not lead elsewhere: {@link ModelFolder}). No control character either: a NUL is no file name.
     */
    private static boolean isPlainFileName(String name) {
        return !name.isEmpty() && !name.equals(".") && !name.equals("..")
                && name.indexOf('/') < 0 && name.indexOf('\\') < 0 && !CheckpointJson.hasControl(name);
    }

    /**
     * Names the checkpoint in messages.
     *
     * @return the path of the file or index it was opened from
     */
    @Override
    public String describe() {
        return description;
    }

    /**
     * The names of every tensor of the checkpoint.
     *
     * @return the names, unmodifiable, in header order (one file) or {@code weight_map} order (an index)
     */
    @Override
    public Set<String> names() {
        return fileOfTensor.keySet();
    }

    @Override
    public TensorInfo info(String name) {
        return fileOf(name).info(name);
    }

    /**
     * A zero-copy host view of {@code name} in its mapped file, valid until the checkpoint is closed.
     *
     * @param name a tensor name
     * @return the view, in the file's dtype and shape; not owned: closing it frees nothing
     * @throws CheckpointException naming the checkpoint and the tensor when there is no such tensor
     * @throws IllegalStateException when the checkpoint was closed
     */
    @Override
    public Tensor view(String name) {
        return fileOf(name).view(name);
    }

    /**
     * A read of {@code name} in its mapped file, which releases the file's pages as it goes: a page goes once every
     * read in flight over it has passed it.
     *
     * @param name a tensor name
     * @param firstByte the first byte of the view the copy reads
     * @param endByte one past the last byte it reads
     * @return the read, to close when the copy is done
     * @throws CheckpointException naming the checkpoint and the tensor when there is no such tensor
     * @throws IllegalArgumentException when {@code [firstByte, endByte)} is not within the tensor's bytes
     * @throws IllegalStateException when the checkpoint was closed
     */
    @Override
    public TensorRead read(String name, long firstByte, long endByte) {
        return fileOf(name).read(name, firstByte, endByte);
    }

    /**
     * The error of the file holding {@code name}, naming that file (not the index) and its size then and now: a
     * file cut short or replaced while mapped.
     *
     * @param name the tensor whose copy failed
     * @param fault what the JVM threw (its {@link InternalError} for a mapped page without bytes behind it)
     * @return the exception to throw, with {@code fault} as its cause
     * @throws CheckpointException when there is no such tensor
     */
    @Override
    public CheckpointException unreadable(String name, Throwable fault) {
        return fileOf(name).unreadable(name, fault);
    }

    /**
     * The mapped files.
     *
     * @return each file once, in the order first listed; the checkpoint's own: closing the checkpoint closes them
     */
    public List<SafetensorsFile> files() {
        return files;
    }

    private SafetensorsFile fileOf(String name) {
        SafetensorsFile file = fileOfTensor.get(name);
        if (file == null) {
            throw new CheckpointException(description + " has no tensor \"" + name + "\"");
        }
        return file;
    }

    /**
     * Unmaps every file; views handed out throw {@link IllegalStateException} from then on. Closing twice is
     * harmless.
     */
    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
