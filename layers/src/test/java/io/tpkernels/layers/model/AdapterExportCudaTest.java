package io.tpkernels.layers.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.tpkernels.runtime.Device;
import io.tpkernels.testing.GpuTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * On a GPU the layers hold A and B zero-padded to an aligned rank (rank 2 in F32 becomes 4); the export drops the
 * padding, gathers over the device's ranks and stages, and writes PEFT's own bytes.
 */
@GpuTest
class AdapterExportCudaTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} at tp {1} x pp {2}")
    @CsvSource({"rslora, 2, 2", "rank_alpha_pattern, 4, 1"})
    void writesPeftsBytesFromTheDevice(String fixture, int tp, int pp) throws IOException {
        Path out = AdapterExportTest.export(fixture, tp, pp, dir.resolve("adapter"), Device.cuda(0),
                UnaryOperator.identity());
        assertArrayEquals(Files.readAllBytes(PeftFixtures.root().resolve(fixture).resolve("adapter_model.safetensors")),
                Files.readAllBytes(out.resolve("adapter_model.safetensors")), fixture);
    }
}
