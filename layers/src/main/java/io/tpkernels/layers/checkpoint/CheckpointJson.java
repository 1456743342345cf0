package io.tpkernels.layers.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** The JSON reading shared by safetensors headers and index files, and the wording of JSON in messages. */
final class CheckpointJson {
    /**
     * Rejects duplicate keys inside objects: Jackson would otherwise keep the last one silently, and a checkpoint
     * whose header says two things about one tensor is corrupt.
     */
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .build();

    /** Longest piece of JSON quoted in a message: a corrupt header may hold megabytes in one value. */
    private static final int QUOTE_LIMIT = 60;

    private CheckpointJson() {
    }

    /** "Unexpected character ... (line 1, column 7)": Jackson's reason without its dump of the source. */
    static String reason(JsonProcessingException e) {
        return e.getOriginalMessage() + (e.getLocation() == null ? ""
                : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
    }

    /** {@code node} as JSON text, cut short for a message. */
    static String quote(JsonNode node) {
        String text = node.toString();
        return text.length() <= QUOTE_LIMIT ? text : text.substring(0, QUOTE_LIMIT) + "...";
    }

    /** "tensor \"w\"" for messages, or "\"__metadata__\"" for the metadata entry. */
    static String entryLabel(String name) {
        return SafetensorsHeader.METADATA_KEY.equals(name) ? "\"" + name + "\"" : "tensor \"" + name + "\"";
    }
}
