package io.tpkernels.layers.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.config.AdapterConfig.ModuleLora;
import io.tpkernels.layers.json.JsonArray;
import io.tpkernels.layers.json.JsonBoolean;
import io.tpkernels.layers.json.JsonNull;
import io.tpkernels.layers.json.JsonNumber;
import io.tpkernels.layers.json.JsonObject;
import io.tpkernels.layers.json.JsonReader;
import io.tpkernels.layers.json.JsonString;
import io.tpkernels.layers.json.JsonValue;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The exported {@code adapter_config.json} has exactly the keys PEFT 0.21 writes, in PEFT's layout, PEFT's defaults,
 * and reads back, every key honoured, as the same modules with the same rank, alpha and scale.
 */
class AdapterConfigWriterTest {
    private static final int LAYERS = 4;

    /**
     * Keys whose value the export sets but no reader needs to act on: PEFT's own bookkeeping and settings whose
     * written value is the one that does nothing ({@code bias "none"}, {@code init_lora_weights true}: the file's
     * tensors overwrite any initialisation, {@code lora_dropout 0.0}).
     */
    private static final Set<String> INERT = Set.of("peft_type", "bias", "init_lora_weights", "inference_mode",
            "lora_dropout", "megatron_core", "peft_version", "qalora_group_size");

    static Stream<Path> peftFiles() throws IOException {
        try (Stream<Path> folders = Files.list(fixtures())) {
            return folders.map(f -> f.resolve("adapter_config.json")).filter(Files::exists).sorted().toList().stream();
        }
    }

    @ParameterizedTest
    @MethodSource("peftFiles")
    void theLayoutIsPeftsByteForByte(Path file) throws IOException {
        String text = Files.readString(file);
        assertEquals(text, PythonJson.dumps(read(text)), file.toString());
    }

    @Test
    void valuesAreWrittenAsPythonsJsonWritesThem() {
        Map<String, JsonValue> all = new LinkedHashMap<>();
        all.put("z", JsonNumber.of(-0.0));
        all.put("int", new JsonNumber("-0"));
        all.put("big", new JsonNumber("18446744073709551617"));
        all.put("exp", new JsonNumber("1E+2"));
        all.put("nan", JsonNumber.of(Double.NaN));
        all.put("inf", JsonNumber.of(Double.NEGATIVE_INFINITY));
        all.put("s", new JsonString("\u00e9\u007f\n\"\\"));
        all.put("list", JsonArray.of(List.of(JsonBoolean.TRUE, JsonNull.NULL, JsonObject.of(Map.of()))));
        assertEquals("""
                {
                  "big": 18446744073709551617,
                  "exp": 100.0,
                  "inf": -Infinity,
                  "int": 0,
                  "list": [
                    true,
                    null,
                    {}
                  ],
                  "nan": NaN,
                  "s": "\\u00e9\\u007f\\n\\"\\\\",
                  "z": -0.0
                }""", PythonJson.dumps(JsonObject.of(all)));
    }

    @Test
    void aPlainAdapterIsWhatPeftWrote() throws IOException {
        List<ModuleLora> all = new ArrayList<>();
        for (String m : linear()) {
            all.add(new ModuleLora(m, 4, 8, false, false));
        }
        Map<String, JsonValue> peft = new LinkedHashMap<>(
                read(Files.readString(fixtures().resolve("suffix_list/adapter_config.json"))).members());
        Map<String, JsonValue> ours = new LinkedHashMap<>(read(AdapterConfigWriter.json(all, linear())).members());
        assertEquals(Set.of("up_proj", "gate_proj", "down_proj"), strings(peft.remove("target_modules")));
        assertEquals(List.of("gate_proj", "up_proj", "down_proj"), List.copyOf(strings(ours.remove("target_modules"))));
        // PEFT's test model is a class of the fixture script's; the demo model has none.
        peft.put("auto_mapping", JsonNull.NULL);
        assertEquals(peft, ours);
    }

    @ParameterizedTest
    @MethodSource("peftFiles")
    void theKeysArePeftsAndEverySetOneIsHonoured(Path file) throws IOException {
        List<ModuleLora> mixed = List.of(new ModuleLora(linear().get(1), 8, 6, true, false),
                new ModuleLora(linear().get(2), 2, 6, true, false), new ModuleLora(linear().get(5), 2, 2.5, true, false));
        JsonObject ours = read(AdapterConfigWriter.json(mixed, linear()));
        assertEquals(read(Files.readString(file)).keys(), ours.keys(), file.toString());
        for (Map.Entry<String, JsonValue> e : ours.members().entrySet()) {
            JsonValue v = e.getValue();
            boolean unset = v.isNull() || v.equals(JsonBoolean.FALSE) || v instanceof JsonObject o && o.isEmpty()
                    || v instanceof JsonArray a && a.isEmpty();
            assertTrue(unset || AdapterConfigKeys.HONOURED.contains(e.getKey()) || INERT.contains(e.getKey()),
                    e.getKey() + " = " + v);
        }
        assertFalse(AdapterConfig.parse(ours.toString(), "export").fanInFanOutIgnored());
    }

    @Test
    void everyModuleReadsBackWithItsRankAlphaAndScaleBitForBit() throws IOException {
        for (boolean rs : new boolean[] {false, true}) {
            List<ModuleLora> modules = List.of(new ModuleLora(linear().get(0), 8, 16, rs, false),
                    new ModuleLora(linear().get(2), 3, 16, rs, false), new ModuleLora(linear().get(3), 8, 0.1, rs, false),
                    new ModuleLora(linear().get(4), 8, 1e-5, rs, false), new ModuleLora(linear().get(11), 7, 3.7, rs, false));
            String text = AdapterConfigWriter.json(modules, linear());
            AdapterConfig back = AdapterConfig.parse(text, "export");
            for (String m : linear()) {
                ModuleLora want = modules.stream().filter(x -> x.module().equals(m)).findFirst().orElse(null);
                ModuleLora got = back.loraFor(m, true).orElse(null);
                assertEquals(want, got, m);
                if (want != null) {
                    assertEquals(Float.floatToIntBits(want.scale()), Float.floatToIntBits(got.scale()), m);
                }
            }
            JsonObject root = read(text);
            assertEquals(8, root.getInt("r"), "the most common rank");
            assertTrue(((JsonNumber) root.get("lora_alpha")).integral(), "an integral alpha is written as PEFT's int: "
                    + text);
            assertEquals(List.of(linear().get(0), linear().get(2), linear().get(3), linear().get(4), linear().get(11)),
                    List.copyOf(strings(root.get("target_modules"))), "some layers only: full names");
        }
    }

    @Test
    void whatOneConfigCannotSayIsRefused() {
        String m0 = linear().get(0);
        String m1 = linear().get(1);
        assertThrows(IllegalArgumentException.class, () -> AdapterConfigWriter.json(List.of(), linear()));
        assertThrows(IllegalArgumentException.class, () -> AdapterConfigWriter.json(
                List.of(new ModuleLora(m0, 4, 8, false, true)), linear()));
        assertThrows(IllegalArgumentException.class, () -> AdapterConfigWriter.json(
                List.of(new ModuleLora(m0, 4, 8, false, false), new ModuleLora(m1, 4, 8, true, false)), linear()));
        assertThrows(IllegalArgumentException.class, () -> AdapterConfigWriter.json(
                List.of(new ModuleLora("lm_head", 4, 8, false, false)), linear()));
        assertThrows(IllegalArgumentException.class, () -> AdapterConfigWriter.json(
                List.of(new ModuleLora(m0, 4, 8, false, false), new ModuleLora(m0, 4, 8, false, false)), linear()));
    }

    @Test
    void floatsAreWrittenAsPythonsRepr() {
        double[] values = {8.0, 0.1, 1e-5, 1e16, 1e15, 1e-4, 1.5e-7, -2.5, 123456789.0, 3 * Math.sqrt(2), 1.0 / 3, 0.0};
        List<String> python = List.of("8.0", "0.1", "1e-05", "1e+16", "1000000000000000.0", "0.0001", "1.5e-07", "-2.5",
                "123456789.0", "4.242640687119286", "0.3333333333333333", "0.0"); // Python 3's repr of each
        List<String> got = new ArrayList<>();
        for (double v : values) {
            got.add(PythonJson.floatRepr(v));
        }
        assertEquals(python, got);
    }

    private static List<String> linear() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < LAYERS; i++) {
            for (String p : List.of("gate_proj", "up_proj", "down_proj")) {
                out.add("model.layers." + i + ".mlp." + p);
            }
        }
        return out;
    }

    private static JsonObject read(String text) {
        return JsonReader.PYTHON.read(text).asObject("");
    }

    private static Set<String> strings(JsonValue array) {
        Set<String> out = new LinkedHashSet<>();
        array.asArray("target_modules").forEach(n -> out.add(n.asString("target_modules[]")));
        return out;
    }

    private static Path fixtures() {
        try {
            return Path.of(AdapterConfigWriterTest.class.getResource("/peft/manifest.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
