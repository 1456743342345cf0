package io.tpkernels.cli;

import io.tpkernels.layers.checkpoint.ModelFolder;
import io.tpkernels.layers.checkpoint.SafetensorsCheckpoint;
import io.tpkernels.layers.config.AdapterConfig;
import io.tpkernels.layers.config.AdapterConfig.ModuleLora;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.model.FreshAdapter;
import io.tpkernels.layers.model.LoraAdapters;
import io.tpkernels.layers.model.PeftAdapter;
import io.tpkernels.layers.weights.WeightSource;
import java.nio.file.Path;
import java.util.List;

/**
 * The adapter {@code tpk finetune} starts from: a PEFT adapter folder ({@code --lora-init}), whose every setting that
 * changes training is honoured or refused by name, or a new one ({@code --lora-rank}). Closes the adapter's weights.
 */
record FinetuneStart(LoraAdapters adapters, List<ModuleLora> modules, WeightSource weights, PeftAdapter peft)
        implements AutoCloseable {

    /** A new adapter: A drawn from {@code seed}, B zero. */
    static FinetuneStart fresh(int rank, Double alpha, List<String> targets, long seed, ModelConfig model) {
        FreshAdapter fresh = FreshAdapter.of(rank, alpha == null ? 2.0 * rank : alpha, targets, seed,
                model.numHiddenLayers());
        return new FinetuneStart(fresh, fresh.modules(), null, null);
    }

    /**
     * The PEFT adapter in {@code dir}, resolved against the model.
     *
     * @throws IllegalArgumentException naming the key for {@code lora_dropout} above 0 (dropout while training is not
     *                                  built), {@code modules_to_save} (training a module's full copy is not built)
     *                                  and DoRA, and whatever loading the adapter for a forward refuses
     */
    static FinetuneStart peft(Path dir, ModelConfig model, WeightSource base) {
        AdapterConfig config = AdapterConfig.read(ModelFolder.file(dir, "adapter_config.json"));
        if (config.loraDropout() != 0) {
            throw new IllegalArgumentException(config.source() + ": lora_dropout " + config.loraDropout()
                    + ": dropout while training is not built, and training without it would not be what the file asks;"
                    + " set lora_dropout to 0");
        }
        if (!config.modulesToSave().isEmpty()) {
            throw new IllegalArgumentException(config.source() + ": modules_to_save " + config.modulesToSave()
                    + ": training a module's full copy is not built; only LoRA factors train");
        }
        if (config.dora()) {
            throw new IllegalArgumentException(config.source() + ": use_dora: DoRA's training (the gradient through its"
                    + " magnitude) is not built; only plain LoRA trains");
        }
        WeightSource weights = SafetensorsCheckpoint.open(ModelFolder.file(dir, "adapter_model.safetensors"));
        try {
            PeftAdapter peft = PeftAdapter.resolve(config, weights, model, base);
            if (peft.modules().isEmpty()) {
                throw new IllegalArgumentException(config.source() + ": target_modules matches no module of the"
                        + " model: nothing to train");
            }
            return new FinetuneStart(peft, peft.modules(), weights, peft);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    /** The base model's weights, with the adapter's tensors beside them. */
    WeightSource weightsOver(WeightSource base) {
        return peft == null ? base : peft.weightsOver(base, weights);
    }

    @Override
    public void close() {
        if (weights != null) {
            weights.close();
        }
    }
}
