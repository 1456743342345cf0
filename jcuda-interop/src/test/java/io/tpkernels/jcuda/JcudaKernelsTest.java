package io.tpkernels.jcuda;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import org.junit.jupiter.api.Test;

/** The JCuda launch's checks, which run before JCuda or a driver is touched. */
class JcudaKernelsTest {

    @Test
    void hostTensorsAndBadShapesAreRejectedFirst() {
        try (Tensor ids = Tensor.ofLongs(DType.I32, new long[] {3, 1}, 2);
             Tensor w = Tensor.ofFloats(DType.F32, new float[] {0.5f, -1.5f, 2.5f, -3.5f, 4.5f, -5.5f, 6.5f, -7.5f}, 4, 2);
             Tensor out = Tensor.allocate(Device.CPU, DType.F32, 2, 2);
             Tensor badOut = Tensor.allocate(Device.CPU, DType.F32, 3, 2)) {
            var host = assertThrows(IllegalArgumentException.class,
                    () -> JcudaKernels.embeddingLookup(ids, w, 0, 4, 4, out));
            assertTrue(host.getMessage().contains("needs tensors on a CUDA device"), host.getMessage());
            var shape = assertThrows(IllegalArgumentException.class,
                    () -> JcudaKernels.embeddingLookup(ids, w, 0, 4, 4, badOut));
            assertTrue(shape.getMessage().contains("out must be [2, 2]"), shape.getMessage());
        }
    }
}
