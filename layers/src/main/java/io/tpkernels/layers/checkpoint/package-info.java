/**
 * Hugging Face safetensors checkpoints (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#14-safetensors">section 14</a>):
 * {@link io.tpkernels.layers.checkpoint.SafetensorsFile} maps one file read-only and checks its whole header before any
 * tensor is read; {@link io.tpkernels.layers.checkpoint.SafetensorsCheckpoint} opens a model folder, one file or a
 * sharded checkpoint's index. Both are {@link io.tpkernels.layers.weights.WeightSource}s: zero-copy host views, shared
 * by every rank thread, whose pages are released as shards are copied out of them; the caller closes them, which unmaps
 * the files. {@link io.tpkernels.layers.checkpoint.SafetensorsWriter} writes a file and
 * {@link io.tpkernels.layers.checkpoint.AdapterFolder} a PEFT adapter folder, each all or nothing.
 * {@link io.tpkernels.layers.checkpoint.ModelFolder} keeps the files a folder names inside it. A file that is missing,
 * unreadable or breaks a rule of the format is a {@link io.tpkernels.layers.checkpoint.CheckpointException} naming the
 * file, the entry and what was wrong.
 */
package io.tpkernels.layers.checkpoint;
