/**
 * The user's configuration files, read so that every setting is honoured, ignored because it cannot change the result,
 * or refused by name, never dropped silently: a Hugging Face {@code config.json}
 * ({@link io.tpkernels.layers.config.ModelConfig}: the sizes that place a decoder on ranks and stages;
 * {@link io.tpkernels.layers.config.ArchitectureConfig}: what counting its parameters needs, the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#counting-parameters-parallelplan-tpk-plan">section 11</a>),
 * and a PEFT {@code adapter_config.json}, read by {@link io.tpkernels.layers.config.AdapterConfig} and written by
 * {@link io.tpkernels.layers.config.AdapterConfigWriter} (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#9-peft-adapters">section 9</a>).
 * A bad file is an {@link java.lang.IllegalArgumentException} whose message is one sentence naming the file, the key
 * and its value. The configurations are immutable.
 */
package io.tpkernels.layers.config;
