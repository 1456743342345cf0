package io.tpkernels.layers.json;

/** Where a value is in a document, as messages name it: {@code quantization_config.weight_block_size[1]}. */
final class JsonPaths {
    private JsonPaths() {
    }

    static String member(String parent, String key) {
        return parent.isEmpty() ? key : parent + "." + key;
    }

    static String element(String parent, int index) {
        return parent + "[" + index + "]";
    }
}
