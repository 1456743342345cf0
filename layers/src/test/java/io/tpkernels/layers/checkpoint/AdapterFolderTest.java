package io.tpkernels.layers.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An adapter folder appears whole or not at all, and an existing one is never touched. */
class AdapterFolderTest {
    private static final String CONFIG = "{\n  \"r\": 2\n}";

    @TempDir
    Path dir;

    private final Tensor b = Fixtures.randomTensor(new Random(3), DType.F32, 3, 2);
    private final Tensor a = Fixtures.randomTensor(new Random(4), DType.F32, 2, 5);

    @AfterEach
    void close() {
        a.close();
        b.close();
    }

    @Test
    void theFolderHoldsTheConfigAndTheTensorsInNameOrder() throws IOException {
        Path target = dir.resolve("adapter");
        AdapterFolder.write(target, CONFIG, Map.of("x.lora_B.weight", b, "x.lora_A.weight", a));
        assertEquals(List.of(target), listing(dir));
        assertEquals(List.of(target.resolve(AdapterFolder.CONFIG), target.resolve(AdapterFolder.WEIGHTS)),
                listing(target));
        assertEquals(CONFIG, Files.readString(target.resolve(AdapterFolder.CONFIG)));
        try (SafetensorsFile f = SafetensorsFile.open(target.resolve(AdapterFolder.WEIGHTS))) {
            assertEquals(List.of("x.lora_A.weight", "x.lora_B.weight"), List.copyOf(f.names()));
            assertArrayEquals(a.toFloatArray(), f.view("x.lora_A.weight").toFloatArray());
            assertEquals(Map.of("format", "pt"), f.metadata());
        }
    }

    @Test
    void aFailureBeforeTheRenameLeavesNeitherTargetNorTemporaryFolder() {
        Path target = dir.resolve("adapter");
        IllegalStateException injected = new IllegalStateException("injected");
        IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> AdapterFolder.write(target, CONFIG, Map.of("w", a), () -> {
                    assertEquals(1, listing(dir).size(), "the temporary folder, written");
                    throw injected;
                }));
        assertSame(injected, thrown);
        assertEquals(List.of(), listing(dir));
    }

    @Test
    void anExistingFolderIsRefusedBeforeAnythingIsWritten() throws IOException {
        Path target = Files.createDirectory(dir.resolve("adapter"));
        Path mine = Files.writeString(target.resolve("mine.txt"), "mine");
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> AdapterFolder.write(target, CONFIG, Map.of("w", a)));
        assertTrue(e.getMessage().contains("exists"), e.getMessage());
        assertEquals(List.of(target), listing(dir));
        assertEquals(List.of(mine), listing(target));
    }

    @Test
    void aFolderThatAppearsDuringTheWriteIsKeptAndTheExportRefused() {
        Path target = dir.resolve("adapter");
        assertThrows(CheckpointException.class, () -> AdapterFolder.write(target, CONFIG, Map.of("w", a), () -> {
            try {
                Files.createDirectory(target); // another writer, empty so far: a plain rename would replace it
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }));
        assertEquals(List.of(target), listing(dir));
        assertEquals(List.of(), listing(target));
    }

    @Test
    void anUnwritablePlaceLeavesNothing() throws IOException {
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertThrows(CheckpointException.class, () -> AdapterFolder.write(file.resolve("adapter"), CONFIG, Map.of()));
        assertEquals(List.of(file), listing(dir));
        assertFalse(Files.exists(file.resolve("adapter")));
    }

    private static List<Path> listing(Path folder) {
        try (Stream<Path> s = Files.list(folder)) {
            return s.sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
