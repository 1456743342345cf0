package io.tpkernels.layers.weights;

import io.tpkernels.layers.weights.ShardLoader.Split;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.testing.GpuTest;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link TruncatedCheckpointTest} onto a device: the copy of a mapping cut short is staged through Java, so it is
 * the checkpoint's error naming the file, where the driver reading the mapping itself crashed the JVM (SIGBUS).
 */
@GpuTest
class TruncatedCheckpointCudaTest {

    @ParameterizedTest(name = "{0} [{1}, {2}) as {3}")
    @CsvSource({
        "ROWS, 256, 512, F32",
        "ROWS, 0, 512, BF16",
        "COLUMNS, 96, 192, F32",
        "REPLICATED, 0, 0, BF16",
    })
    void aFileCutShortWhileMappedIsACheckpointErrorNamingIt(Split split, int from, int to, DType dtype,
                                                            @TempDir Path dir) throws IOException {
        TruncatedCheckpointTest.check(dir, Device.cuda(0), split, from, to, dtype);
    }
}
