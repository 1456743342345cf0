package io.tpkernels.layers.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tpkernels.layers.config.AdapterConfig.ModuleLora;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
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
    private static final ObjectMapper JSON = new ObjectMapper();
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
        assertEquals(text, PythonJson.dumps(JSON.readTree(text)), file.toString());
    }

    @Test
    void aPlainAdapterIsWhatPeftWrote() throws IOException {
        List<ModuleLora> all = new ArrayList<>();
        for (String m : linear()) {
            all.add(new ModuleLora(m, 4, 8, false, false));
        }
        ObjectNode peft = (ObjectNode) JSON.readTree(fixtures().resolve("suffix_list/adapter_config.json").toFile());
        ObjectNode ours = (ObjectNode) JSON.readTree(AdapterConfigWriter.json(all, linear()));
        assertEquals(Set.of("up_proj", "gate_proj", "down_proj"), strings(peft.remove("target_modules")));
        assertEquals(List.of("gate_proj", "up_proj", "down_proj"), List.copyOf(strings(ours.remove("target_modules"))));
        peft.putNull("auto_mapping"); // PEFT's test model is a class of the fixture script's; the demo model has none
        assertEquals(peft, ours);
    }

    @ParameterizedTest
    @MethodSource("peftFiles")
    void theKeysArePeftsAndEverySetOneIsHonoured(Path file) throws IOException {
        List<ModuleLora> mixed = List.of(new ModuleLora(linear().get(1), 8, 6, true, false),
                new ModuleLora(linear().get(2), 2, 6, true, false), new ModuleLora(linear().get(5), 2, 2.5, true, false));
        JsonNode ours = JSON.readTree(AdapterConfigWriter.json(mixed, linear()));
        assertEquals(keys(JSON.readTree(file.toFile())), keys(ours), file.toString());
        for (Iterator<Map.Entry<String, JsonNode>> it = ours.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            boolean unset = v.isNull() || v.isEmpty() && v.isContainerNode() || v.isBoolean() && !v.asBoolean();
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
            JsonNode root = JSON.readTree(text);
            assertEquals(8, root.get("r").intValue(), "the most common rank");
            assertTrue(root.get("lora_alpha").isIntegralNumber(), "an integral alpha is written as PEFT's int: " + text);
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

    private static Set<String> keys(JsonNode node) {
        Set<String> out = new HashSet<>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }

    private static Set<String> strings(JsonNode array) {
        Set<String> out = new LinkedHashSet<>();
        array.forEach(n -> out.add(n.asText()));
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
