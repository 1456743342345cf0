package io.tpkernels.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The PEFT fixtures the CLI tests train on (the layers module's test resources, read from its test jar), copied out
 * as folders: {@code base} (the demo model), {@code rank_alpha_pattern} and {@code rslora} (adapters).
 */
final class PeftFixtureFiles {
    private static final List<String> FILES = List.of("base/config.json", "base/model.safetensors",
            "rank_alpha_pattern/adapter_config.json", "rank_alpha_pattern/adapter_model.safetensors",
            "rslora/adapter_config.json", "rslora/adapter_model.safetensors");

    private PeftFixtureFiles() {
    }

    /** The fixtures under {@code dir}/peft, copied there on first use. */
    static Path in(Path dir) {
        Path root = dir.resolve("peft");
        if (!Files.isDirectory(root)) {
            for (String file : FILES) {
                try (InputStream in = PeftFixtureFiles.class.getResourceAsStream("/peft/" + file)) {
                    Path to = root.resolve(file);
                    Files.createDirectories(to.getParent());
                    Files.copy(in, to);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return root;
    }
}
