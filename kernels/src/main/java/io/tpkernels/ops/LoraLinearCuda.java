package io.tpkernels.ops;

import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.gpu.CudaStream;
import io.tpkernels.gpu.DeviceBuffer;
import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Tensor;

/**
 * {@link LoraLinear} on a GPU. At decode with F16/BF16 one launch does everything ({@link LoraDecodeCuda}); otherwise
 * the shrink {@code xa = s·x·Aᵀ} into a small {@code [T, R]} buffer of this call's
 * own (a GEMM of R output columns), then one fused kernel that accumulates {@code x·Wᵀ} and {@code xa·Bᵀ} in the
 * same registers, adds the bias and writes {@code y} once.
 *
 * <p>The buffer is per call, not per stream: ranks that share a GPU are threads queueing on the same stream, so a
 * per-stream buffer let one rank's shrink overwrite another's {@code xa} between its two launches (found by the
 * emulator's run of the row-parallel LoRA layer, where each rank's {@code xa} differs). It is allocated and freed
 * in stream order ({@code cuMemAllocAsync}, {@code cuMemFreeAsync}): the free takes effect after the fused kernel,
 * and neither call waits for the GPU, where {@code cuMemFree} would synchronize the device on every forward.
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
        if (LoraDecodeCuda.takes(x, w, a, b, stream)) {
            LoraDecodeCuda.launch(x, w, a, b, scale, bias, out, stream);
            return;
        }
        DType dtype = LoraLinear.intermediateDtype(x);
        long bytes = Math.max(1, t * r * dtype.byteSize());
        stream.device().makeCurrent();
        long pointer = CudaDriver.memAllocAsync(bytes, stream.handle());
        try (Tensor xa = Tensor.view(DeviceBuffer.wrap(stream.device(), pointer, bytes), 0, dtype, t, r)) {
            GemmCuda.launch(x, a, null, null, null, r, scale, xa, stream);
            GemmCuda.launch(x, w, xa, b, bias, n, 1f, out, stream);
        } finally {
            CudaDriver.memFreeAsync(pointer, stream.handle());
        }
    }
}
