/**
 * The thin layer API that models are built from, on top of the kernels and the collectives: parallel linear
 * layers, vocab- and hidden-parallel embeddings, the padded LM head, LoRA layers with one collective each
 * ({@code io.tpkernels.layers}); weight sources and shard loading ({@code io.tpkernels.layers.weights});
 * safetensors checkpoints ({@code io.tpkernels.layers.checkpoint}); the demo model's blocks and pipeline stages
 * ({@code io.tpkernels.layers.model}); the model and adapter configurations and the parallel plan.
 */
@SuppressWarnings("module") // the modules named by the qualified export are built after this one
module io.tpkernels.layers {
    requires transitive io.tpkernels.kernels;
    // JSON: the streaming parser and generator only; no jackson type is part of this module's API.
    requires com.fasterxml.jackson.core;

    exports io.tpkernels.layers;
    exports io.tpkernels.layers.checkpoint;
    exports io.tpkernels.layers.config;
    exports io.tpkernels.layers.model;
    exports io.tpkernels.layers.plan;
    exports io.tpkernels.layers.weights;
    // The JSON tree, reader and writer: the project's own, not an API of the library.
    exports io.tpkernels.layers.json to io.tpkernels.bench, io.tpkernels.cli;
}
