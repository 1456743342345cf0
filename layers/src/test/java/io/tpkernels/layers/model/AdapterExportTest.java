package io.tpkernels.layers.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.layers.Precision;
import io.tpkernels.layers.checkpoint.CheckpointException;
import io.tpkernels.layers.checkpoint.SafetensorsCheckpoint;
import io.tpkernels.layers.config.AdapterConfig.ModuleLora;
import io.tpkernels.layers.config.AdapterConfig;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.runtime.Device;
import io.tpkernels.shard.PipelinePartition;
import io.tpkernels.shard.VocabShard;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * An adapter PEFT wrote, loaded at one tp × pp and exported ({@link AdapterExport}), is the same folder from every
 * layout, reads back as the same adapter, and gives the same logits at another layout.
 */
class AdapterExportTest {
    /** Fixtures with several ranks and alphas (rank_pattern, alpha_pattern), rsLoRA, and LoRA on some layers only. */
    static Stream<String> fixtures() {
        return Stream.of("rank_alpha_pattern", "rslora", "layers_to_transform");
    }

    @TempDir
    Path dir;

    @ParameterizedTest
    @MethodSource("fixtures")
    void everyLayoutWritesTheSameFolder(String fixture) throws IOException {
        Path one = export(fixture, 1, 1, dir.resolve("tp1"));
        Path eight = export(fixture, 4, 2, dir.resolve("tp4-pp2"));
        byte[] tensors = Files.readAllBytes(one.resolve("adapter_model.safetensors"));
        assertArrayEquals(tensors, Files.readAllBytes(eight.resolve("adapter_model.safetensors")),
                fixture + ": tensors at tp 1 and at tp 4 x pp 2");
        assertEquals(Files.readString(one.resolve("adapter_config.json")),
                Files.readString(eight.resolve("adapter_config.json")), fixture + ": config at tp 1 and tp 4 x pp 2");
        // PEFT's own file holds the same F32 tensors under the same names, in the same order: the same bytes.
        assertArrayEquals(Files.readAllBytes(PeftFixtures.root().resolve(fixture).resolve("adapter_model.safetensors")),
                tensors, fixture + ": the export and PEFT's file");
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void anAdapterExportedAtTp4Pp2GivesTheOriginalLogitsAtTp3(String fixture) {
        Path exported = export(fixture, 4, 2, dir.resolve("exported"));
        float[] original = PeftFixtures.forward(fixture, 1, 1, -1, Precision.F32);
        float[] reloaded = PeftFixtures.forward(exported, PeftFixtures.ids(fixture), 3, 1, -1, Precision.F32);
        PeftFixtures.assertLogits(original, reloaded, (int) PeftFixtures.modelConfig().vocabSize(), 1e-5,
                fixture + " exported at tp 4 x pp 2, run at tp 3");
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void theExportedConfigGivesBackEveryModulesRankAlphaAndScale(String fixture) {
        Path exported = export(fixture, 2, 2, dir.resolve("exported"));
        List<ModuleLora> original = modules(PeftFixtures.root().resolve(fixture));
        List<ModuleLora> back = modules(exported);
        assertEquals(original, back, fixture);
        for (int i = 0; i < original.size(); i++) {
            assertEquals(Float.floatToIntBits(original.get(i).scale()), Float.floatToIntBits(back.get(i).scale()),
                    original.get(i).module() + ": scale");
        }
        try (WeightSource base = SafetensorsCheckpoint.open(PeftFixtures.root().resolve("base"));
             WeightSource adapter = SafetensorsCheckpoint.open(exported.resolve("adapter_model.safetensors"))) {
            AdapterConfig config = AdapterConfig.read(exported.resolve("adapter_config.json"));
            List<String> summary = PeftAdapter.resolve(config, adapter, PeftFixtures.modelConfig(), base).summary();
            assertTrue(summary.stream().allMatch(line -> line.startsWith("lora ")), "no note, nothing ignored: "
                    + summary);
        }
    }

    @Test
    void anExportThatCannotWriteLeavesNothingBehind() throws IOException {
        Path notAFolder = Files.writeString(dir.resolve("file"), "x");
        assertThrows(CheckpointException.class, () -> export("rslora", 2, 2, notAFolder.resolve("adapter")));
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(notAFolder), left.toList());
        }
    }

    @Test
    void anExistingFolderIsRefusedAndKept() throws IOException {
        Path target = Files.createDirectory(dir.resolve("adapter"));
        Path kept = Files.writeString(target.resolve("notes.txt"), "mine");
        CheckpointException e = assertThrows(CheckpointException.class, () -> export("rslora", 2, 2, target));
        assertTrue(e.getMessage().contains("exists"), e.getMessage());
        assertEquals("mine", Files.readString(kept));
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(target), left.toList());
        }
    }

    @Test
    void modulesThatDoNotMatchTheLayersAreRefusedBeforeAnythingIsWritten() {
        UnaryOperator<List<ModuleLora>> wrongAlpha = ms -> {
            List<ModuleLora> out = new ArrayList<>(ms);
            ModuleLora m = out.getFirst();
            out.set(0, new ModuleLora(m.module(), m.rank(), m.alpha() + 1, m.rsLora(), m.dora()));
            return out;
        };
        Path target = dir.resolve("adapter");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> export("rank_alpha_pattern", 2, 2, target, wrongAlpha));
        assertTrue(e.getMessage().contains("described with"), e.getMessage());
        assertFalse(Files.exists(target));
        UnaryOperator<List<ModuleLora>> oneMissing = ms -> ms.subList(1, ms.size());
        assertThrows(IllegalArgumentException.class, () -> export("rank_alpha_pattern", 2, 2, target, oneMissing));
        assertFalse(Files.exists(target));
    }

    /** Loads fixture {@code fixture} at tp × pp and exports it to {@code folder}. */
    static Path export(String fixture, int tp, int pp, Path folder) {
        return export(fixture, tp, pp, folder, Device.CPU, UnaryOperator.identity());
    }

    private static Path export(String fixture, int tp, int pp, Path folder, UnaryOperator<List<ModuleLora>> described) {
        return export(fixture, tp, pp, folder, Device.CPU, described);
    }

    /** Loads fixture {@code fixture} at tp × pp on {@code device}, described as {@code described} says, and exports it. */
    static Path export(String fixture, int tp, int pp, Path folder, Device device,
                       UnaryOperator<List<ModuleLora>> described) {
        ModelConfig config = PeftFixtures.modelConfig();
        Path in = PeftFixtures.root().resolve(fixture);
        try (WeightSource base = SafetensorsCheckpoint.open(PeftFixtures.root().resolve("base"));
             WeightSource adapter = SafetensorsCheckpoint.open(in.resolve("adapter_model.safetensors"))) {
            PeftAdapter peft = PeftAdapter.resolve(AdapterConfig.read(in.resolve("adapter_config.json")), adapter, config,
                    base);
            List<ModuleLora> modules = described.apply(peft.modules());
            var spec = new PipelineStage.Spec(config, PipelinePartition.balanced(config.numHiddenLayers(), pp,
                    PipelinePartition.Remainder.FIRST), device, Precision.F32, VocabShard.DEFAULT_MULTIPLE);
            List<Boolean> wrote = LocalGroup.runMesh(tp, pp, Duration.ofSeconds(30), mesh -> {
                try (PipelineStage stage = PipelineStage.load(peft.weightsOver(base, adapter), spec, mesh, peft,
                        layer -> { })) {
                    return AdapterExport.export(stage, modules, folder);
                }
            });
            List<Boolean> expected = new ArrayList<>(Collections.nCopies(tp * pp, false));
            expected.set(0, true);
            assertEquals(expected, wrote, "only stage 0's first rank writes");
        }
        return folder;
    }

    private static List<ModuleLora> modules(Path folder) {
        try (WeightSource base = SafetensorsCheckpoint.open(PeftFixtures.root().resolve("base"));
             WeightSource adapter = SafetensorsCheckpoint.open(folder.resolve("adapter_model.safetensors"))) {
            return PeftAdapter.resolve(AdapterConfig.read(folder.resolve("adapter_config.json")), adapter,
                    PeftFixtures.modelConfig(), base).modules();
        }
    }
}
