/**
 * The demo model, an MLP-stack LLaMA with Hugging Face tensor names (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#13-the-demo-model">section 13</a>): its
 * blocks and pipeline stages, a forward on {@code tp·pp} ranks of one process, PEFT adapters resolved against it
 * (<a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#9-peft-adapters">section 9</a>),
 * fine-tuning of its LoRA adapter
 * (<a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#p3-fine-tuning-steps">P3</a>) and the
 * export of that adapter as PEFT writes one.
 */
package io.tpkernels.layers.model;
