/**
 * The thin layer API that models are built from, on top of the kernels and the collectives: parallel linear
 * layers, vocab- and hidden-parallel embeddings, the padded LM head, LoRA layers with one collective each
 * ({@code io.tpkernels.layers}); weight sources and shard loading ({@code io.tpkernels.layers.weights});
 * safetensors checkpoints ({@code io.tpkernels.layers.checkpoint}); the demo model's blocks and pipeline stages
 * ({@code io.tpkernels.layers.model}); the model and adapter configurations and the parallel plan.
 */
module io.tpkernels.layers {
    requires transitive io.tpkernels.kernels;
    requires com.fasterxml.jackson.databind;
    requires com.fasterxml.jackson.core;

    exports io.tpkernels.layers;
    exports io.tpkernels.layers.checkpoint;
    exports io.tpkernels.layers.config;
    exports io.tpkernels.layers.model;
    exports io.tpkernels.layers.plan;
    exports io.tpkernels.layers.weights;
}
