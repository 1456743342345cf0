package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.Poison;
import io.tpkernels.testing.RandomData;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CUDA cast against the CPU cast, bit for bit on every non-NaN value (NaN only has to stay NaN).
 * Outputs are poisoned with 0xFF (NaN) first, so an element the kernel fails to write fails the test.
 */
@GpuTest
class CastCudaTest {

    private static final Device GPU = Device.cuda(0);

    private static int bits(DType d, MemorySegment s, long i) {
        return d.byteSize() == 4 ? s.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i)
                : s.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i) & 0xFFFF;
    }

    private static void assertSameAsCpu(Tensor hostSrc, DType to, long from, long count) {
        try (Tensor cpu = Cast.to(ExecutionContext.defaultFor(hostSrc.device()), hostSrc, to);
             Tensor gpuSrc = hostSrc.copyTo(GPU);
             Tensor gpuDst = Poison.poison(Tensor.allocate(GPU, to, hostSrc.shape()))) {
            // A row view starting at `from` exercises unaligned (scalar) paths when from % 4 != 0.
            Tensor srcView = gpuSrc.rows(from, from + count);
            Tensor dstView = gpuDst.rows(from, from + count);
            Cast.into(ExecutionContext.defaultFor(srcView.device()), srcView, dstView);
            try (Tensor back = gpuDst.copyTo(Device.CPU)) {
                MemorySegment expected = cpu.hostSegment();
                MemorySegment actual = back.hostSegment();
                for (long i = from; i < from + count; i++) {
                    float e = to.getFloat(expected, i);
                    float a = to.getFloat(actual, i);
                    if (Float.isNaN(e)) {
                        assertTrue(Float.isNaN(a), "element " + i + " must stay NaN");
                    } else {
                        assertEquals(bits(to, expected, i), bits(to, actual, i),
                                "element " + i + ": expected " + e + ", GPU wrote " + a);
                    }
                }
                // Outside the view nothing may be written: still the poison pattern.
                for (long i = 0; i < from; i++) {
                    assertEquals(to.byteSize() == 4 ? -1 : 0xFFFF, bits(to, actual, i), "element " + i + " untouched");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} -> {1}, every 16-bit pattern")
    @CsvSource({"F16, F32", "BF16, F32", "F16, BF16", "BF16, F16"})
    void everyHalfBitPatternMatchesTheCpu(DType from, DType to) {
        try (Tensor src = Tensor.allocate(Device.CPU, from, 65536)) {
            for (int b = 0; b < 65536; b++) {
                src.hostSegment().setAtIndex(ValueLayout.JAVA_SHORT, b, (short) b);
            }
            assertSameAsCpu(src, to, 0, 65536);
        }
    }

    @ParameterizedTest(name = "F32 -> {0}, n={1}, from row {2}")
    @CsvSource({"BF16, 1, 0", "BF16, 1000003, 0", "BF16, 4099, 3", "F16, 1000003, 0", "F16, 4097, 1", "F32, 77, 0"})
    void randomFloatsMatchTheCpu(DType to, int n, int from) {
        float[] values = RandomData.floats(n, n);
        // Specials and rounding edges among the random values.
        values[0] = Float.NaN;
        if (n > 4) {
            values[1] = Float.POSITIVE_INFINITY;
            values[2] = -0f;
            values[3] = Float.intBitsToFloat(0x3F808000); // bf16 tie: rounds to even
            values[4] = 70000f; // f16 overflow
        }
        try (Tensor src = Tensor.ofFloats(DType.F32, values, n)) {
            assertSameAsCpu(src, to, Math.min(from, n - 1), n - Math.min(from, n - 1));
        }
    }
}
