package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.bench.cases.Backend;
import io.tpkernels.layers.checkpoint.SafetensorsFile;
import io.tpkernels.layers.json.JsonReader;
import io.tpkernels.layers.json.JsonValue;
import io.tpkernels.layers.json.JsonWriter;
import io.tpkernels.layers.model.DemoModelNames.Projection;
import io.tpkernels.layers.model.DemoModelNames;
import io.tpkernels.layers.testing.DemoModelReference;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code tpk forward} end to end: a model and adapter written to disk, run over tp × pp layouts with and
 * without the adapter, tied and untied, equals the unsharded double computation of the same files.
 */
class ForwardCommandTest {

    @TempDir
    Path tmp;

    static final long[] IDS = {0, 5, 100, 33, 7, 64};

    @ParameterizedTest(name = "tp {0} x pp {1}, adapter {2}, tied {3}")
    @CsvSource({
        "1, 1, false, false",
        "2, 1, true, false",
        "1, 2, false, true",
        "4, 2, true, true",
        "3, 4, true, false",
        "8, 1, false, true",
    })
    void equalsTheUnshardedComputation(int tp, int pp, boolean withAdapter, boolean tied) throws Exception {
        var sizes = new DemoModelWriter.Sizes(101, 24, 48, 4, 4, 8, tied);
        Path model = Files.createDirectories(tmp.resolve("model"));
        Path adapter = Files.createDirectories(tmp.resolve("adapter"));
        DemoModelWriter.writeModel(model, sizes, 7);
        DemoModelWriter.writeAdapter(adapter, sizes, 8);
        Path logitsFile = tmp.resolve("logits.safetensors");
        Path argmaxFile = tmp.resolve("argmax.safetensors");
        for (Path out : new Path[] {logitsFile, argmaxFile}) {
            List<String> args = new ArrayList<>(List.of("forward", "--model", model.toString(), "--tokens",
                    "0,5,100,33,7,64", "--tp", "" + tp, "--pp", "" + pp, "--backend", "cpu", "--out", out.toString()));
            if (withAdapter) {
                args.addAll(List.of("--lora", adapter.toString()));
            }
            if (out == argmaxFile) {
                args.add("--argmax");
            }
            CliRun run = CliRun.tpk(args.toArray(String[]::new));
            assertEquals(0, run.exit(), run.err());
            assertTrue(run.out().contains(Plural.of(tp * pp, "rank") + " (") && run.out().contains(IDS.length + " tokens"), run.out());
        }
        double[][] ref;
        try (SafetensorsFile weights = SafetensorsFile.open(model.resolve("model.safetensors"));
             SafetensorsFile lora = SafetensorsFile.open(adapter.resolve("adapter_model.safetensors"))) {
            float scale = (float) (8.0 / 4);
            ref = DemoModelReference.logits(weights, IDS, 101, 24, 48, 4, tied, (l, p) -> withAdapter
                    ? new DemoModelReference.Lora(lora.view(DemoModelNames.loraA(l, p)).toFloatArray(),
                    lora.view(DemoModelNames.loraB(l, p)).toFloatArray(), 4, scale) : null);
        }
        try (SafetensorsFile logits = SafetensorsFile.open(logitsFile);
             SafetensorsFile argmax = SafetensorsFile.open(argmaxFile)) {
            Tensor l = logits.view("logits");
            assertEquals(DType.F32, l.dtype());
            assertArrayEquals(new long[] {IDS.length, 101}, l.shape());
            float[] got = l.toFloatArray();
            long[] expectedTokens = new long[IDS.length];
            for (int i = 0; i < IDS.length; i++) {
                double rowMax = 0;
                for (int j = 0; j < 101; j++) {
                    rowMax = Math.max(rowMax, Math.abs(ref[i][j]));
                    if (ref[i][j] > ref[i][(int) expectedTokens[i]]) {
                        expectedTokens[i] = j;
                    }
                }
                for (int j = 0; j < 101; j++) {
                    assertEquals(ref[i][j], got[i * 101 + j], 1e-5 * (rowMax + 1), "logit [" + i + ", " + j + "]");
                }
            }
            Tensor a = argmax.view("argmax");
            assertEquals(DType.I64, a.dtype());
            long[] tokens = new long[IDS.length];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = DType.I64.getLong(a.hostSegment(), i);
            }
            assertArrayEquals(expectedTokens, tokens, "greedy tokens");
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "token out of range | --tokens 1,101,3 | token id 101 at position 1",
        "negative token | --tokens 1,-4 | --tokens: token 2 '-4' is not an integer",
        "token not a number | --tokens 1,x | 'x' is not an integer",
        "tp not dividing | --tokens 1 --tp 5 | hidden_size",
        "pp above layers | --tokens 1 --pp 5 | pp 5",
        "cuda without GPU | --tokens 1 --backend cuda | needs a GPU",
        "missing tokens file | --tokens-file /nonexistent/ids.txt | /nonexistent/ids.txt does not exist",
        "bad dtype | --tokens 1 --dtype f64 | --dtype must be f32 or bf16",
    })
    void badInputIsExitTwoAndOneLineAndNoOutput(String what, String extra, String expected) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(what.startsWith("cuda") && Backend.detect() == Backend.cuda,
                "a GPU is present");
        var sizes = new DemoModelWriter.Sizes(101, 24, 48, 4, 4, 8, false);
        Path model = Files.createDirectories(tmp.resolve("model"));
        DemoModelWriter.writeModel(model, sizes, 7);
        assertRejected(model, extra, expected);
    }

    private void assertRejected(Path model, String extra, String expected) {
        Path out = tmp.resolve("out.safetensors");
        List<String> args = new ArrayList<>(List.of("forward", "--model", model.toString(), "--out", out.toString()));
        args.addAll(List.of(extra.strip().split(" ")));
        CliRun run = CliRun.tpk(args.toArray(String[]::new));
        assertEquals(2, run.exit(), run.out() + run.err());
        assertTrue(run.err().contains(expected), run.err());
        assertEquals(1, run.err().strip().lines().count(), "one line, no stack trace: " + run.err());
        assertFalse(Files.exists(out), "no output file is left behind");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "missing checkpoint | delete model.safetensors | model.safetensors",
        "truncated checkpoint | truncate model.safetensors | model.safetensors",
        "config value of the wrong type | config hidden_size \"big\" | hidden_size",
        "missing tensor | drop lm_head | lm_head.weight",
        "config linked out of the folder | link config.json | config.json is a symbolic link to",
        "checkpoint linked out of the folder | link model.safetensors | model.safetensors is a symbolic link to",
        "index entry with a NUL | nul index | model.safetensors.index.json: tensor \"model.embed_tokens.weight\" is mapped to \"model\\u0000.safetensors\"",
    })
    void brokenFilesAreExitTwoAndNamed(String what, String damage, String expected) throws Exception {
        var sizes = new DemoModelWriter.Sizes(101, 24, 48, 4, 4, 8, false);
        Path model = Files.createDirectories(tmp.resolve("model"));
        DemoModelWriter.writeModel(model, sizes, 7);
        Path st = model.resolve("model.safetensors");
        switch (damage.split(" ")[0]) {
            case "delete" -> Files.delete(st);
            case "truncate" -> Files.write(st, java.util.Arrays.copyOf(Files.readAllBytes(st), (int) Files.size(st) / 2));
            case "config" -> Files.writeString(model.resolve("config.json"), Files.readString(model.resolve("config.json"))
                    .replace("\"hidden_size\": 24", "\"hidden_size\": \"big\""));
            case "link" -> {
                // The file itself is fine; it is outside the folder, where a downloaded folder must not lead.
                Path file = model.resolve(damage.split(" ")[1]);
                Path outside = Files.move(file, Files.createDirectories(tmp.resolve("elsewhere")).resolve(file.getFileName()));
                Files.createSymbolicLink(file, outside);
            }
            case "nul" -> {
                Files.delete(st);
                Files.writeString(model.resolve("model.safetensors.index.json"),
                        "{\"weight_map\": {\"model.embed_tokens.weight\": \"model\\u0000.safetensors\"}}");
            }
            default -> {
                // A checkpoint without the LM head although the config does not tie it.
                var tied = new DemoModelWriter.Sizes(101, 24, 48, 4, 4, 8, true);
                DemoModelWriter.writeModel(model, tied, 7);
                Files.writeString(model.resolve("config.json"), Files.readString(model.resolve("config.json"))
                        .replace("\"tie_word_embeddings\": true", "\"tie_word_embeddings\": false"));
            }
        }
        assertRejected(model, "--tokens 1,2", expected);
    }

    @org.junit.jupiter.api.Test
    void aCheckpointWithMoreLayersThanTheConfigIsAWarningOnceNamingTheFirstUnusedTensor() throws Exception {
        Path model = Files.createDirectories(tmp.resolve("model"));
        DemoModelWriter.writeModel(model, new DemoModelWriter.Sizes(101, 24, 48, 4, 4, 8, false), 7);
        Path out = tmp.resolve("out.safetensors");
        CliRun all = CliRun.tpk("forward", "--model", model.toString(), "--tokens", "1,2", "--out", out.toString(),
                "--backend", "cpu");
        assertEquals(0, all.exit(), all.err());
        assertFalse(all.err().contains("warning"), all.err());

        Files.writeString(model.resolve("config.json"), Files.readString(model.resolve("config.json"))
                .replace("\"num_hidden_layers\": 4", "\"num_hidden_layers\": 2"));
        CliRun fewer = CliRun.tpk("forward", "--model", model.toString(), "--tokens", "1,2", "--out", out.toString(),
                "--backend", "cpu", "--tp", "2", "--pp", "2");
        assertEquals(0, fewer.exit(), fewer.err());
        List<String> warnings = fewer.err().lines().filter(l -> l.contains("warning")).toList();
        assertEquals(List.of("tpk forward: warning: 6 tensors of " + model.resolve("model.safetensors") + " not used by"
                + " the model of config.json (num_hidden_layers 2), the first \"model.layers.2.mlp.gate_proj.weight\""),
                warnings);
    }

    @ParameterizedTest(name = "adapter {0}")
    @CsvSource(delimiter = '|', value = {
        "tensor of the wrong shape | " + "base_model.model.model.layers.1.mlp.up_proj.lora_B.weight",
        "config of the wrong type | lora_alpha",
    })
    void aBrokenAdapterIsExitTwoAndNamed(String what, String expected) throws Exception {
        var sizes = new DemoModelWriter.Sizes(101, 24, 48, 4, 4, 8, false);
        Path model = Files.createDirectories(tmp.resolve("model"));
        Path adapter = Files.createDirectories(tmp.resolve("adapter"));
        DemoModelWriter.writeModel(model, sizes, 7);
        if (what.startsWith("tensor")) {
            // B of layer 1's up_proj written as [I, R+1]: neither the full nor a shard's shape.
            DemoModelWriter.writeAdapter(adapter, sizes, 8);
            Path file = adapter.resolve("adapter_model.safetensors");
            java.util.Map<String, Tensor> tensors = new java.util.LinkedHashMap<>();
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                for (String name : f.names()) {
                    tensors.put(name, f.view(name).copyTo(io.tpkernels.runtime.Device.CPU));
                }
            }
            String bad = DemoModelNames.loraB(1, Projection.UP);
            tensors.get(bad).close();
            tensors.put(bad, Tensor.zeros(io.tpkernels.runtime.Device.CPU, DType.F32, 48, 5));
            io.tpkernels.layers.checkpoint.SafetensorsWriter.write(file, tensors, java.util.Map.of());
            tensors.values().forEach(Tensor::close);
        } else {
            DemoModelWriter.writeAdapter(adapter, sizes, 8);
            Files.writeString(adapter.resolve("adapter_config.json"), Files.readString(adapter.resolve("adapter_config.json"))
                    .replace("\"lora_alpha\": 8.0", "\"lora_alpha\": \"eight\""));
        }
        assertRejected(model, "--tokens 1,2 --tp 2 --lora " + adapter, expected);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "lora_bias | \"lora_bias\": true",
        "bias | \"bias\": \"lora_only\"",
        "layer_replication | \"layer_replication\": [[0, 2], [1, 3]]",
        "peft_type | \"peft_type\": \"LOHA\"",
        "target_parameters | \"target_parameters\": [\"experts.gate_up_proj\"]",
        "use_qalora | \"use_qalora\": true",
        "alora_invocation_tokens | \"alora_invocation_tokens\": [3, 4]",
        "trainable_token_indices | \"trainable_token_indices\": [1, 2]",
        "ensure_weight_tying | \"ensure_weight_tying\": true",
        "init_lora_weights | \"init_lora_weights\": \"pissa\"",
        "a key this library does not know | \"lora_future_knob\": 0.5",
        "r out of range | \"r\": 0",
        "layers_to_transform of the wrong type | \"layers_to_transform\": \"1\"",
        "layers_to_transform with a regex | \"target_modules\": \".*up_proj\", \"layers_to_transform\": [1]",
        "layers_pattern alone | \"layers_pattern\": \"layers\"",
        "target_modules a bad regex | \"target_modules\": \"(up\"",
        "rank_pattern not a rank | \"rank_pattern\": {\"up_proj\": \"eight\"}",
        "modules_to_save a string | \"modules_to_save\": \"lm_head\"",
    })
    void aRefusedAdapterKeyIsExitTwoAndOneLineNamingFileKeyAndValue(String key, String setting) throws Exception {
        Path model = tmp.resolve("model");
        Path adapter = tmp.resolve("adapter");
        Path config = writeModelAndAdapterWith(model, adapter, setting);
        String name = key.contains(" ") ? setting.substring(1, setting.indexOf('"', 1)) : key;
        if (key.startsWith("layers_to_transform with")) {
            name = "layers_to_transform";
        }
        String value = setting.substring(setting.lastIndexOf(": ") + 2).replace(" ", "");
        Path out = tmp.resolve("out.safetensors");
        CliRun run = CliRun.tpk("forward", "--model", model.toString(), "--tokens", "1,2", "--lora", adapter.toString(),
                "--out", out.toString());
        assertEquals(2, run.exit(), run.out() + run.err());
        String err = run.err().strip();
        assertEquals(1, err.lines().count(), "one line, no stack trace: " + err);
        assertTrue(err.contains(config.toString()) && err.contains(name) && err.replace(" ", "").contains(value),
                "names the file, " + name + " and " + value + ": " + err);
        assertFalse(Files.exists(out), "no output file is left behind");
    }

    @org.junit.jupiter.api.Test
    void forwardSaysOnceWhichModulesGotLoraWithWhichRankAndScale() throws Exception {
        Path model = tmp.resolve("model");
        Path adapter = tmp.resolve("adapter");
        writeModelAndAdapterWith(model, adapter, "\"rank_pattern\": {\"layers.2.mlp.down_proj\": 4}, "
                + "\"alpha_pattern\": {\"down_proj\": 2}, \"fan_in_fan_out\": true");
        CliRun run = CliRun.tpk("forward", "--model", model.toString(), "--tokens", "1,2", "--tp", "2", "--lora",
                adapter.toString(), "--out", tmp.resolve("out.safetensors").toString());
        assertEquals(0, run.exit(), run.err());
        List<String> lines = run.out().lines().filter(l -> l.startsWith("forward: lora")
                || l.contains("fan_in_fan_out")).toList();
        assertEquals(List.of(
                "forward: lora gate_proj in layers 0-3: r 4, alpha 8, scale 2",
                "forward: lora up_proj in layers 0-3: r 4, alpha 8, scale 2",
                "forward: lora down_proj in layers 0-3: r 4, alpha 2, scale 0.5",
                "forward: fan_in_fan_out = true ignored: the targets are linear layers, where PEFT ignores it too"),
                lines, run.out());
    }

    /**
     * The test model and its adapter ({@code r = 4}, alpha 8, gate/up/down) written to {@code model} and
     * {@code adapter}, with {@code settings} (JSON members) set in {@code adapter_config.json}, each replacing the
     * file's own value of its key: a file that gives a key twice is refused. Returns the config's path.
     */
    private static Path writeModelAndAdapterWith(Path model, Path adapter, String settings) throws Exception {
        var sizes = new DemoModelWriter.Sizes(101, 24, 48, 4, 4, 8, false);
        DemoModelWriter.writeModel(Files.createDirectories(model), sizes, 7);
        DemoModelWriter.writeAdapter(Files.createDirectories(adapter), sizes, 8);
        Path config = adapter.resolve("adapter_config.json");
        Map<String, JsonValue> members = new LinkedHashMap<>(
                JsonReader.PYTHON.read(Files.readString(config)).asObject("adapter_config.json").members());
        members.putAll(JsonReader.PYTHON.read("{" + settings + "}").asObject("settings").members());
        Files.writeString(config, JsonWriter.pretty(members));
        return config;
    }
}
