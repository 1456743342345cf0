package io.tpkernels.layers.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The export drops the zero rows of {@code A} and columns of {@code B} that a GPU layer pads its rank with, and
 * widens to F32 exactly. (The padding exists on a GPU only; here it is made by hand, as {@code LoraLinear.padRank}
 * makes it.)
 */
class LoraGatherTest {
    @Test
    void paddingPastTheRankIsDropped() {
        int r = 3;
        int padded = 8;
        long k = 5;
        long n = 4;
        float[] a = new float[(int) (padded * k)];
        float[] b = new float[(int) (n * padded)];
        float[] wantA = new float[(int) (r * k)];
        float[] wantB = new float[(int) (n * r)];
        for (int i = 0; i < r * k; i++) {
            a[i] = wantA[i] = 1 + i * 0.25f; // rows past r stay zero
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < r; j++) {
                b[i * padded + j] = wantB[i * r + j] = -1 - i - j * 0.5f; // columns past r stay zero
            }
        }
        try (Tensor at = Tensor.ofFloats(DType.BF16, a, padded, k);
             Tensor bt = Tensor.ofFloats(DType.BF16, b, n, padded);
             LoraGather.Full full = LoraGather.unpadded(at, bt, r)) {
            assertEquals(DType.F32, full.a().dtype());
            assertArrayEquals(new long[] {r, k}, full.a().shape());
            assertArrayEquals(new long[] {n, r}, full.b().shape());
            assertArrayEquals(wantA, full.a().toFloatArray());
            assertArrayEquals(wantB, full.b().toFloatArray());
        }
    }
}
