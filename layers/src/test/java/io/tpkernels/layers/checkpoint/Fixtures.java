package io.tpkernels.layers.checkpoint;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Random tensors and hand-made safetensors bytes for the checkpoint tests. */
final class Fixtures {
    private Fixtures() {
    }

    /** A host tensor of random bits (any float pattern, NaN payloads included: the format must keep them all). */
    static Tensor randomTensor(Random random, DType dtype, long... shape) {
        Tensor t = Tensor.allocate(Device.CPU, dtype, shape);
        byte[] bits = new byte[(int) t.byteSize()];
        random.nextBytes(bits);
        t.hostSegment().copyFrom(MemorySegment.ofArray(bits));
        return t;
    }

    /** {@code count} random tensors of random dtypes and small random shapes (scalars and empty ones included). */
    static Map<String, Tensor> randomTensors(Random random, String prefix, int count) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            DType dtype = DType.values()[random.nextInt(DType.values().length)];
            long[] shape = new long[random.nextInt(4)];
            for (int d = 0; d < shape.length; d++) {
                shape[d] = random.nextInt(6); // 0 now and then: empty tensors
            }
            tensors.put(prefix + i, randomTensor(random, dtype, shape));
        }
        return tensors;
    }

    /** The bytes of a host tensor. */
    static byte[] bytes(Tensor t) {
        return t.hostSegment().toArray(ValueLayout.JAVA_BYTE);
    }

    /** A safetensors file: little-endian length, {@code header} as UTF-8 (single quotes become double), then {@code data}. */
    static byte[] file(String header, byte[] data) {
        return file(header.replace('\'', '"').getBytes(StandardCharsets.UTF_8), data);
    }

    /** A safetensors file: little-endian length, the header bytes {@code json}, then {@code data}. */
    static byte[] file(byte[] json, byte[] data) {
        return ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(json.length).put(json).put(data).array();
    }

    /** {@code count} bytes that are not all zero. */
    static byte[] randomBytes(Random random, int count) {
        byte[] b = new byte[count];
        random.nextBytes(b);
        return b;
    }

    /**
     * Writes {@code bytes} to {@code file}, overwriting in place and then trimming rather than truncating first:
     * ext4 flushes a file truncated to zero and rewritten when it is closed, which made the fuzz test 50x slower.
     */
    static Path write(Path file, byte[] bytes) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.truncate(bytes.length);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void closeAll(Map<String, Tensor> tensors) {
        tensors.values().forEach(Tensor::close);
    }
}
