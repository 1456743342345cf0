package io.tpkernels.layers.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.Precision;
import io.tpkernels.layers.checkpoint.SafetensorsCheckpoint;
import io.tpkernels.layers.checkpoint.SafetensorsFile;
import io.tpkernels.layers.config.AdapterConfig;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.json.JsonObject;
import io.tpkernels.layers.json.JsonReader;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.VocabShard;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The adapters PEFT 0.21 wrote for the demo model ({@code src/test/resources/peft}, made by
 * {@code tools/peft-fixtures/make_peft_fixtures.py}): each folder's adapter files as {@code save_pretrained} wrote
 * them and PEFT's own float64 logits for them; {@code manifest.json} lists, per folder, the modules PEFT adapted
 * and their rank, alpha and DoRA. These are the references; nothing in them comes from this library.
 */
final class PeftFixtures {
    private PeftFixtures() {
    }

    /** The fixtures' root folder. */
    static Path root() {
        try {
            return Path.of(PeftFixtures.class.getResource("/peft/manifest.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The manifest's entry for {@code name}. */
    static JsonObject manifest(String name) {
        return configs().getObject(name);
    }

    /** Every fixture folder the manifest lists. */
    static List<String> names() {
        return new ArrayList<>(configs().keys());
    }

    private static JsonObject configs() {
        try {
            return JsonReader.STRICT.read(Files.readString(root().resolve("manifest.json"))).asObject("")
                    .getObject("configs");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ModelConfig modelConfig() {
        return ModelConfig.read(root().resolve("base/config.json"));
    }

    /** PEFT's expected tensor {@code tensor} ("logits", "base_logits") of fixture {@code name}. */
    static float[] expected(String name, String tensor) {
        try (SafetensorsFile f = SafetensorsFile.open(root().resolve(name).resolve("expected.safetensors"))) {
            return f.view(tensor).toFloatArray();
        }
    }

    /** The token ids every fixture's logits are for. */
    static long[] ids(String name) {
        try (SafetensorsFile f = SafetensorsFile.open(root().resolve(name).resolve("expected.safetensors"))) {
            Tensor ids = f.view("ids");
            long[] out = new long[(int) ids.numel()];
            for (int i = 0; i < out.length; i++) {
                out[i] = DType.I64.getLong(ids.hostSegment(), i);
            }
            return out;
        }
    }

    /** The logits of fixture {@code name}'s adapter on the base model, run as {@code tpk forward} runs it. */
    static float[] forward(String name, int tp, int pp, int deviceOrdinal, Precision precision) {
        return forward(root().resolve(name), ids(name), tp, pp, deviceOrdinal, precision);
    }

    /** The logits of the adapter in {@code folder} on the base model for {@code ids}, as {@code tpk forward} runs it. */
    static float[] forward(Path folder, long[] ids, int tp, int pp, int deviceOrdinal, Precision precision) {
        ModelConfig config = modelConfig();
        AdapterConfig adapterConfig = AdapterConfig.read(folder.resolve("adapter_config.json"));
        try (WeightSource base = SafetensorsCheckpoint.open(root().resolve("base"));
             WeightSource adapter = SafetensorsCheckpoint.open(folder.resolve("adapter_model.safetensors"))) {
            PeftAdapter peft = PeftAdapter.resolve(adapterConfig, adapter, config, base);
            var options = new DemoForward.Options(tp, pp, stage -> deviceOrdinal, precision,
                    VocabShard.DEFAULT_MULTIPLE, false, Duration.ofMinutes(1));
            try (DemoForward.Result r = DemoForward.run(config, peft.weightsOver(base, adapter), peft, ids,
                    options, (done, total) -> { })) {
                return r.logits().toFloatArray();
            }
        }
    }

    /**
     * {@code got} equals PEFT's {@code expected} logits within {@code relative} of each token's largest logit
     * magnitude (plus one); NaN never passes.
     */
    static void assertLogits(float[] expected, float[] got, int vocab, double relative, String what) {
        assertEquals(expected.length, got.length, what + ": logits' size");
        for (int t = 0; t < expected.length / vocab; t++) {
            double rowMax = 0;
            for (int j = 0; j < vocab; j++) {
                rowMax = Math.max(rowMax, Math.abs(expected[t * vocab + j]));
            }
            for (int j = 0; j < vocab; j++) {
                float g = got[t * vocab + j];
                double e = expected[t * vocab + j];
                assertTrue(!Float.isNaN(g) && Math.abs(g - e) <= relative * (rowMax + 1),
                        what + ": logit [" + t + ", " + j + "] is " + g + ", PEFT's " + e);
            }
        }
    }
}
