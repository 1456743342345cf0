/**
 * The parallel plan of a decoder: its parameters counted weight by weight as Hugging Face transformers instantiates its
 * architecture, and where they live under tensor and pipeline parallelism, per rank and per stage, in parameters and
 * bytes (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#counting-parameters-parallelplan-tpk-plan">section 11</a>).
 * What {@code tpk plan} prints.
 */
package io.tpkernels.layers.plan;
