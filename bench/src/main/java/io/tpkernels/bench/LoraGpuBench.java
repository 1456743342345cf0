package io.tpkernels.bench;

import io.tpkernels.gpu.CudaDevice;
import io.tpkernels.gpu.CudaStream;
import io.tpkernels.ops.CublasGemm;
import io.tpkernels.ops.LmHead;
import io.tpkernels.ops.LoraLinear;
import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Device;
import io.tpkernels.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The fused LoRA linear on a GPU on the shape (K = N = 8192, R = 16, BF16; T ∈ {1, 16, 4096}), timed
 * with events (median of 25 after 5 warm-ups, inputs and outputs rotated over three buffers), against the base
 * GEMM alone (the same kernels without the LoRA segment) and the unfused sequence on cuBLAS (base GEMM, the
 * shrink GEMM, and the expand GEMM accumulating into the output with beta = 1), all in this run.
 * Run on a GPU host: {@code bash .gpu-bundle/run main io.tpkernels.bench.LoraGpuBench}.
 */
public final class LoraGpuBench {
    private static final int WARMUP = 5;
    private static final int RUNS = 25;
    private static final int ROTATE = 3;
    private static final int K = 8192;
    private static final int N = 8192;
    private static final int R = 16;
    private static final int[] TOKENS = {1, 16, 4096};

    private LoraGpuBench() {
    }

    public static void main(String[] args) {
        CudaDevice device = CudaDevice.of(0);
        Device gpu = device.device();
        System.out.printf(Locale.ROOT, "%s, K = N = %d, R = %d, BF16, BF16 output%n", device, K, R);
        System.out.printf("%-6s %11s %11s %9s %14s %9s%n", "T", "fused ms", "base ms", "fused/base", "unfused cuBLAS",
                "fused/unf");
        Owned owned = new Owned();
        try (CudaStream stream = CudaStream.create(device); GpuTimer timer = new GpuTimer(device, stream)) {
            SplittableRandom rnd = new SplittableRandom(11);
            Tensor w = owned.add(random(owned, rnd, N, K).copyTo(gpu));
            Tensor a = owned.add(random(owned, rnd, R, K).copyTo(gpu));
            Tensor b = owned.add(random(owned, rnd, N, R).copyTo(gpu));
            MemorySegment one = CublasGemm.scalar(1f);
            MemorySegment two = CublasGemm.scalar(2f);
            MemorySegment zero = CublasGemm.scalar(0f);
            for (int t : TOKENS) {
                Tensor[] xs = new Tensor[ROTATE];
                Tensor[] ys = new Tensor[ROTATE];
                for (int i = 0; i < ROTATE; i++) {
                    xs[i] = owned.add(random(owned, rnd, t, K).copyTo(gpu));
                    ys[i] = owned.add(Tensor.allocate(gpu, DType.BF16, t, N));
                }
                Tensor xa = owned.add(Tensor.allocate(gpu, DType.BF16, t, R));
                double fused = timer.medianMillis(WARMUP, RUNS,
                        i -> LoraLinear.forward(xs[i % ROTATE], w, a, b, 2f, null, ys[i % ROTATE], stream));
                double base = timer.medianMillis(WARMUP, RUNS, i -> LmHead.logits(xs[i % ROTATE], w, ys[i % ROTATE], stream));
                double unfused = !CublasGemm.isAvailable() ? Double.NaN : timer.medianMillis(WARMUP, RUNS, i -> {
                    CublasGemm.multiplyNT(xs[i % ROTATE], w, ys[i % ROTATE], stream);
                    CublasGemm.multiplyNT(xs[i % ROTATE], a, xa, two, zero, stream);
                    CublasGemm.multiplyNT(xa, b, ys[i % ROTATE], one, one, stream);
                });
                System.out.printf(Locale.ROOT, "%-6d %11.4f %11.4f %9.3fx %14.4f %8.3fx%n", t, fused, base, fused / base,
                        unfused, fused / unfused);
            }
        } finally {
            device.synchronize();
            owned.close();
        }
    }

    private static Tensor random(Owned owned, SplittableRandom rnd, int rows, int cols) {
        Tensor t = owned.add(Tensor.allocate(Device.CPU, DType.BF16, rows, cols));
        EmbeddingShapes.fillRandomBf16(t.hostSegment(), rnd);
        return t;
    }

}
