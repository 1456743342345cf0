package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.RandomData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link LmHeadBackward} on the CPU against a double-precision {@code dz[:, :valid]·W_r}: the head's logits are
 * linear in its input, so the gradient of {@code L = Σ_{j < valid} logits ⊙ dz} is exactly that product, and the
 * padding columns of {@code dz}, filled with NaN here, must not be read.
 */
class LmHeadBackwardTest {
    @ParameterizedTest(name = "W {0}: T={1} H={2} valid={3} S={4}")
    @CsvSource({
        "F32, 7, 33, 50, 64",
        "BF16, 3, 16, 64, 64",
        "F16, 5, 24, 10, 16",
        "BF16, 4, 8, 0, 16",
    })
    void isDzTimesTheValidRowsAndNeverReadsPadding(DType wType, int t, int h, int valid, int s) {
        float[] dzValues = RandomData.moderate(21, t * s);
        for (int i = 0; i < t; i++) {
            for (int j = valid; j < s; j++) {
                dzValues[i * s + j] = Float.NaN; // a padding column: no row of W_r exists for it
            }
        }
        try (Tensor dz = Tensor.ofFloats(DType.F32, dzValues, t, s);
             Tensor w32 = Tensor.ofFloats(DType.F32, RandomData.moderate(22, valid * h), valid, h);
             Tensor w = w32.copyTo(Device.CPU);
             Tensor wStored = wType == DType.F32 ? w : Cast.to(ExecutionContext.cpu(), w32, wType);
             Tensor dx = LmHeadBackward.inputGradient(ExecutionContext.cpu(), dz, wStored)) {
            float[] wv = wStored.dtype() == DType.F32 ? wStored.toFloatArray() : widen(wStored);
            float[] got = dx.toFloatArray();
            assertEquals(t * h, got.length);
            for (int i = 0; i < t; i++) {
                for (int k = 0; k < h; k++) {
                    double want = 0;
                    double scale = 0;
                    for (int j = 0; j < valid; j++) {
                        double term = (double) dzValues[i * s + j] * wv[j * h + k];
                        want += term;
                        scale += Math.abs(term);
                    }
                    float g = got[i * h + k];
                    assertTrue(!Float.isNaN(g) && Math.abs(g - want) <= 1e-6 * scale + 1e-30, "dx[" + i + ", " + k
                            + "] = " + g + ", the reference " + want);
                }
            }
        }
    }

    private static float[] widen(Tensor t) {
        try (Tensor f = Cast.to(ExecutionContext.cpu(), t, DType.F32)) {
            return f.toFloatArray();
        }
    }
}
