package io.tpkernels.ops;

import io.tpkernels.gpu.CudaStream;
import io.tpkernels.gpu.StreamScratch;
import io.tpkernels.tensor.Tensor;

/**
 * {@link LoraLinear} on a GPU: the shrink {@code xa = s·x·Aᵀ} into a per-stream scratch buffer ({@code [T, R]},
 * a GEMM of R output columns), then one fused kernel that accumulates {@code x·Wᵀ} and {@code xa·Bᵀ} in the
 * same registers, adds the bias and writes {@code y} once.
 */
final class LoraLinearCuda {
    private LoraLinearCuda() {
    }

    static void run(Tensor x, Tensor w, Tensor a, Tensor b, float scale, Tensor bias, Tensor out, CudaStream stream) {
        long t = x.dim(0);
        long r = a.dim(0);
        long n = w.dim(0);
        if (t == 0 || n == 0) {
            return;
        }
        var dtype = LoraLinear.intermediateDtype(x);
        Tensor xa = Tensor.view(StreamScratch.forStream(stream, t * r * dtype.byteSize()), 0, dtype, t, r);
        GemmCuda.launch(x, a, null, null, null, r, scale, xa, stream);
        GemmCuda.launch(x, w, xa, b, bias, n, 1f, out, stream);
    }
}
