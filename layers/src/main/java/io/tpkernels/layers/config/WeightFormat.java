package io.tpkernels.layers.config;

import io.tpkernels.runtime.DType;

/**
 * How a checkpoint stores its weights (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#counting-parameters-parallelplan-tpk-plan">section 11</a>):
 * every parameter in {@code dtype}, except the weights of the quantized linear layers when {@code fp8} is given: one
 * byte per weight plus one F32 scale per block of {@code blockRows × blockCols} (partial blocks at the edges count
 * whole). Embeddings, norms, biases, routers and the LM head stay in {@code dtype}.
 *
 * @param dtype the unquantized parameters' dtype (F32, F16 or BF16)
 * @param fp8   the fp8 blocks, or {@code null} when nothing is quantized
 */
public record WeightFormat(DType dtype, Fp8Blocks fp8) {

    /**
     * Block-wise fp8 ({@code quant_method "fp8"} with {@code weight_block_size [blockRows, blockCols]}): one F32 scale
     * per block of a weight.
     *
     * @param blockRows a block's rows (of the weight's output dimension)
     * @param blockCols a block's columns (of its input dimension)
     */
    public record Fp8Blocks(int blockRows, int blockCols) {
        /**
         * Checks the block.
         *
         * @param blockRows a block's rows, at least 1
         * @param blockCols a block's columns, at least 1
         * @throws IllegalArgumentException when either is below 1
         */
        public Fp8Blocks {
            if (blockRows < 1 || blockCols < 1) {
                throw new IllegalArgumentException("fp8 blocks must be at least 1 x 1, got " + blockRows + " x "
                        + blockCols);
            }
        }
    }

    /**
     * Checks the dtype.
     *
     * @param dtype the unquantized parameters' dtype, a float type
     * @param fp8   the fp8 blocks, or {@code null} when nothing is quantized
     * @throws IllegalArgumentException when {@code dtype} is not a float type
     */
    public WeightFormat {
        if (!dtype.isFloatingPoint()) {
            throw new IllegalArgumentException("parameters are F32, F16 or BF16, not " + dtype);
        }
    }

    /**
     * Whether the linear layers' weights are quantized.
     *
     * @return whether {@code fp8} is given
     */
    public boolean quantized() {
        return fp8 != null;
    }

    /**
     * Says how the weights are stored, for {@code tpk plan}'s output.
     *
     * @return "BF16", or "fp8 (128x128 blocks, F32 scales), the rest BF16"
     */
    public String describe() {
        return fp8 == null ? dtype.name()
                : "fp8 (" + fp8.blockRows() + "x" + fp8.blockCols() + " blocks, F32 scales), the rest " + dtype.name();
    }
}
