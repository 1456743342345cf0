package io.tpkernels.layers.checkpoint;

import static io.tpkernels.layers.checkpoint.CheckpointJson.entryLabel;
import static io.tpkernels.layers.checkpoint.CheckpointJson.quote;

import io.tpkernels.layers.json.JsonArray;
import io.tpkernels.layers.json.JsonMemberReader;
import io.tpkernels.layers.json.JsonNumber;
import io.tpkernels.layers.json.JsonObject;
import io.tpkernels.layers.json.JsonReader;
import io.tpkernels.layers.json.JsonString;
import io.tpkernels.layers.json.JsonSyntaxException;
import io.tpkernels.layers.json.JsonValue;
import io.tpkernels.layers.weights.TensorInfo;
import io.tpkernels.runtime.DType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON header of a safetensors file, checked against every rule of the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#reading-safetensorsfile-safetensorscheckpoint">section 14</a>,
 * so that each entry's bytes lie inside the data section and belong to no other entry. Like the reference reader, it
 * also requires the entries to cover the data exactly, without gaps or bytes after the last one: a header length that
 * is off by a few bytes (a corrupt or hand-made file) then fails instead of silently shifting every tensor.
 *
 * @param entries  tensors by name, in header order
 * @param metadata the {@code __metadata__} strings (empty if absent)
 */
record SafetensorsHeader(Map<String, Entry> entries, Map<String, String> metadata) {

    /** The reserved key of the free-form string metadata. */
    static final String METADATA_KEY = "__metadata__";

    /**
     * Where one tensor's bytes are.
     *
     * @param info  its name, dtype and shape
     * @param begin first byte, relative to the start of the data section
     * @param end   one past its last byte
     */
    record Entry(TensorInfo info, long begin, long end) {
        String bytes() {
            return "bytes [" + begin + ", " + end + ")";
        }
    }

    /**
     * Parses and validates {@code json}, the header of {@code file} whose data section holds {@code dataSize} bytes.
     *
     * @throws CheckpointException naming the file, the entry and the broken rule
     */
    static SafetensorsHeader parse(byte[] json, long dataSize, String file) {
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<String, JsonValue> field : topLevelFields(json, file).entrySet()) {
            if (field.getKey().equals(METADATA_KEY)) {
                metadata = metadata(field.getValue(), file);
            } else {
                entries.put(field.getKey(), entry(field.getKey(), field.getValue(), dataSize, file));
            }
        }
        requireTiling(entries.values(), dataSize, file);
        return new SafetensorsHeader(Collections.unmodifiableMap(entries), metadata);
    }

    /**
     * The header's top-level keys and values, in order. Read key by key rather than as one tree so that a duplicate
     * tensor name is reported as one, and a syntax error inside an entry names the entry.
     */
    private static Map<String, JsonValue> topLevelFields(byte[] json, String file) {
        Map<String, JsonValue> fields = new LinkedHashMap<>();
        String name = null;
        String text = CheckpointJson.utf8(json, file + ": the header");
        try (JsonMemberReader members = JsonReader.STRICT.members(text)) {
            if (!members.startObject()) {
                throw new CheckpointException(file + ": the header is not a JSON object");
            }
            while ((name = members.nextKey()) != null) {
                JsonValue value = members.value();
                if (fields.putIfAbsent(name, value) != null) {
                    throw new CheckpointException(file + ": " + entryLabel(name) + " appears twice in the header");
                }
                name = null; // a syntax error from here on is between entries
            }
            if (!members.atEnd()) {
                throw new CheckpointException(file + ": the header has more JSON after its object");
            }
            return fields;
        } catch (JsonSyntaxException e) {
            throw new CheckpointException(file + ": the header is not valid JSON"
                    + (name == null ? "" : " in " + entryLabel(name)) + ": " + e.getMessage(), e);
        }
    }

    private static Map<String, String> metadata(JsonValue node, String file) {
        if (!(node instanceof JsonObject object)) {
            throw new CheckpointException(file + ": \"" + METADATA_KEY + "\" must be an object of strings, not "
                    + quote(node));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonValue> e : object.members().entrySet()) {
            if (!(e.getValue() instanceof JsonString value)) {
                throw new CheckpointException(file + ": \"" + METADATA_KEY + "\" key \""
                        + CheckpointJson.printable(e.getKey()) + "\" must be a string, not " + quote(e.getValue()));
            }
            metadata.put(e.getKey(), value.value());
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static Entry entry(String name, JsonValue node, long dataSize, String file) {
        String where = file + ": " + entryLabel(name);
        if (!(node instanceof JsonObject fields)) {
            throw new CheckpointException(where + " must be an object with dtype, shape and data_offsets, not "
                    + quote(node));
        }
        DType dtype = dtype(fields.get("dtype"), where);
        long[] shape = nonNegativeIntegers(fields.get("shape"), -1, where, "shape");
        long bytes = byteSize(shape, dtype, where);
        long[] offsets = nonNegativeIntegers(fields.get("data_offsets"), 2, where, "data_offsets");
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw new CheckpointException(where + " has data_offsets " + Arrays.toString(offsets)
                    + " that end before they begin");
        }
        if (end - begin != bytes) {
            throw new CheckpointException(where + " has data_offsets " + Arrays.toString(offsets) + " of "
                    + (end - begin) + " bytes, but shape " + Arrays.toString(shape) + " of " + dtype + " needs "
                    + bytes + " bytes");
        }
        if (end > dataSize) {
            throw new CheckpointException(where + " has data_offsets " + Arrays.toString(offsets)
                    + " outside the " + dataSize + " bytes of data");
        }
        return new Entry(new TensorInfo(name, dtype, shape), begin, end);
    }

    private static DType dtype(JsonValue node, String where) {
        if (!(node instanceof JsonString name)) {
            throw new CheckpointException(where + " has no \"dtype\" string");
        }
        try {
            return DType.ofSafetensorsName(name.value());
        } catch (IllegalArgumentException e) {
            // Quoted as JSON (escaped, cut short): the file's text must not break the one-line message.
            throw new CheckpointException(where + " has unsupported dtype " + quote(node)
                    + " (supported: F32, F16, BF16, I32, I64)", e);
        }
    }

    /**
     * The array {@code node} of non-negative 64-bit integers, of {@code length} elements unless that is -1. Each is
     * read exactly as written: {@code 1.0}, {@code 1e3} or a number beyond 64 bits is refused, never rounded.
     */
    private static long[] nonNegativeIntegers(JsonValue node, int length, String where, String key) {
        String expected = length < 0 ? "a list of non-negative integers" : "a list of " + length + " non-negative integers";
        if (node == null) {
            throw new CheckpointException(where + " has no \"" + key + "\"");
        }
        if (!(node instanceof JsonArray array) || (length >= 0 && array.size() != length)) {
            throw new CheckpointException(where + " has " + key + " " + quote(node) + ", not " + expected);
        }
        long[] values = new long[array.size()];
        for (int i = 0; i < values.length; i++) {
            if (!(array.get(i) instanceof JsonNumber n && n.fitsLong() && n.longValue() >= 0)) {
                throw new CheckpointException(where + " has " + key + " " + quote(node) + ", not " + expected);
            }
            values[i] = n.longValue();
        }
        return values;
    }

    private static long byteSize(long[] shape, DType dtype, String where) {
        try {
            long numel = 1;
            for (long d : shape) {
                numel = Math.multiplyExact(numel, d);
            }
            return Math.multiplyExact(numel, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new CheckpointException(where + " has shape " + Arrays.toString(shape) + " of " + dtype
                    + ", more than 2^63 bytes", e);
        }
    }

    /**
     * The entries, in offset order, tile the data section: each begins where the one before ended (no byte in
     * two tensors, none in no tensor), and the last ends where the data does. Sorting by begin, then end, puts an
     * empty tensor before a non-empty one at the same offset, as the reference reader does.
     */
    private static void requireTiling(Collection<Entry> entries, long dataSize, String file) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long covered = 0;
        Entry previous = null;
        for (Entry e : sorted) {
            if (e.begin() < covered) {
                throw new CheckpointException(file + ": " + entryLabel(e.info().name()) + " (" + e.bytes()
                        + ") overlaps " + entryLabel(previous.info().name()) + " (" + previous.bytes() + ")");
            }
            if (e.begin() > covered) {
                throw new CheckpointException(file + ": " + entryLabel(e.info().name()) + " (" + e.bytes()
                        + ") leaves bytes [" + covered + ", " + e.begin() + ") of the data in no tensor");
            }
            covered = e.end();
            previous = e;
        }
        if (covered != dataSize) {
            throw new CheckpointException(file + ": " + (dataSize - covered) + " bytes of data follow "
                    + (previous == null ? "a header that lists no tensor"
                            : "the last tensor, \"" + previous.info().name() + "\" (" + previous.bytes() + ")"));
        }
    }
}
