/**
 * The thin layer API that models are built from (column/row-parallel linear, vocab- and hidden-parallel
 * embedding, the padded LM head, LoRA layers, pipeline stages), on top of the kernels and the collectives.
 * It has no types yet: the layers issue fills it once the kernels and collectives exist.
 */
module io.tpkernels.layers {
    requires transitive io.tpkernels.kernels;
}
