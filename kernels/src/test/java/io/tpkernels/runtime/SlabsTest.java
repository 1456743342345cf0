package io.tpkernels.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tpkernels.testing.RandomData;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** Narrowing one dimension equals picking the elements by index. */
class SlabsTest {

    @Property(tries = 50)
    void narrowPicksTheSlab(@ForAll @IntRange(min = 1, max = 6) int a, @ForAll @IntRange(min = 1, max = 7) int b,
                            @ForAll @IntRange(min = 1, max = 5) int c, @ForAll @IntRange(min = 0, max = 2) int dim,
                            @ForAll @IntRange(min = 0, max = 100) int seed) {
        int[] shape = {a, b, c};
        int start = seed % shape[dim];
        int length = (seed / 7) % (shape[dim] - start + 1);
        float[] v = RandomData.floats(seed, a * b * c);
        try (Tensor t = Tensor.ofFloats(DType.F32, v, a, b, c);
             Tensor n = Slabs.narrow(ExecutionContext.defaultFor(t.device()), t, dim, start, length)) {
            int[] s = shape.clone();
            s[dim] = length;
            float[] expected = new float[s[0] * s[1] * s[2]];
            for (int i = 0; i < s[0]; i++) {
                for (int j = 0; j < s[1]; j++) {
                    for (int k = 0; k < s[2]; k++) {
                        int[] src = {i, j, k};
                        src[dim] += start;
                        expected[(i * s[1] + j) * s[2] + k] = v[(src[0] * b + src[1]) * c + src[2]];
                    }
                }
            }
            assertArrayEquals(expected, n.toFloatArray());
        }
    }

    @Test
    void aSlabPastTheEndIsRejected() {
        try (Tensor t = Tensor.ofFloats(DType.F32, RandomData.floats(1, 6), 2, 3)) {
            assertThrows(IllegalArgumentException.class, () -> Slabs.narrow(ExecutionContext.defaultFor(t.device()), t, 1, 2, 2));
        }
    }
}
