package io.tpkernels.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tpkernels.testing.GpuTest;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A host tensor over a mapped file reaches the device through the staging buffer, chunk by chunk, byte for byte;
 * and a file cut short while mapped is the JVM's InternalError from the copy, not a crash in the driver.
 */
@GpuTest
class MappedStagingCudaTest {
    @TempDir
    Path dir;

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    @Test
    void aMappedTensorArrivesWholeInChunksOfAnySize() throws IOException {
        byte[] bytes = randomBytes(4 * 1000);
        Path file = Files.write(dir.resolve("data.bin"), bytes);
        Device gpu = Device.cuda(0);
        try (Arena arena = Arena.ofShared(); FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, bytes.length, arena);
            Tensor view = Tensor.wrap(mapped, DType.F32, 1000);
            for (long chunk : new long[] {1, 7, 64, 4000, 1 << 20}) {
                try (Tensor t = Tensor.allocate(gpu, DType.F32, 1000)) {
                    MappedStaging.toDevice(CudaDevice.of(gpu), t.devicePointer(), mapped, null, chunk);
                    assertArrayEquals(bytes, hostBytes(t), "chunk " + chunk);
                }
            }
            try (Tensor t = view.copyTo(gpu)) {
                assertArrayEquals(bytes, hostBytes(t), "copyTo");
            }
            CudaStream stream = CudaStream.create(CudaDevice.of(gpu));
            try (stream; Tensor t = Tensor.allocate(gpu, DType.F32, 1000)) {
                t.copyFromAsync(view, stream);
                stream.synchronize();
                assertArrayEquals(bytes, hostBytes(t), "copyFromAsync");
            }
        }
    }

    @Test
    void aFileCutShortWhileMappedIsAnInternalErrorNotACrash() throws IOException {
        int size = 1 << 20;
        Path file = Files.write(dir.resolve("cut.bin"), randomBytes(size));
        Device gpu = Device.cuda(0);
        try (Arena arena = Arena.ofShared();
             FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            Tensor view = Tensor.wrap(mapped, DType.F32, size / 4);
            channel.truncate(4096);
            assertThrows(InternalError.class, () -> view.copyTo(gpu).close());
            CudaStream stream = CudaStream.create(CudaDevice.of(gpu));
            try (stream; Tensor t = Tensor.allocate(gpu, DType.F32, size / 4)) {
                assertThrows(InternalError.class, () -> t.copyFromAsync(view, stream));
            }
        }
    }

    private static byte[] hostBytes(Tensor t) {
        try (Tensor host = t.copyTo(Device.CPU)) {
            return host.hostSegment().toArray(ValueLayout.JAVA_BYTE);
        }
    }
}
