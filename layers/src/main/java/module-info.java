/**
 * The thin layer API that models are built from, on top of the kernels and the collectives: for now the
 * model configuration ({@link io.tpkernels.layers.config.ModelConfig}), the parallel plan that places a
 * model's parameters on tensor-parallel ranks and pipeline stages ({@link io.tpkernels.layers.plan.ParallelPlan}),
 * the weight sources layers read from ({@link io.tpkernels.layers.weights.WeightSource}), and safetensors
 * checkpoints ({@link io.tpkernels.layers.checkpoint.SafetensorsCheckpoint}).
 */
module io.tpkernels.layers {
    requires transitive io.tpkernels.kernels;
    requires com.fasterxml.jackson.databind;

    exports io.tpkernels.layers.checkpoint;
    exports io.tpkernels.layers.config;
    exports io.tpkernels.layers.plan;
    exports io.tpkernels.layers.weights;
}
