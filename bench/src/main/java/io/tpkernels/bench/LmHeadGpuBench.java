package io.tpkernels.bench;

import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.gpu.CudaDevice;
import io.tpkernels.gpu.CudaStream;
import io.tpkernels.ops.CublasGemm;
import io.tpkernels.ops.LmHead;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Device;
import io.tpkernels.tensor.Tensor;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The LM head on a GPU on the shape (vocab 128256 over tp 8, rank 0's 16064 rows, H = 8192, BF16,
 * F32 logits), timed with events (median of 25 after 5 warm-ups; X and the logits rotated over three buffers),
 * against cuBLAS's GemmEx on the same shapes and the device-to-device copy bandwidth, all in this run.
 * Decode reports GB/s (W, X and logits bytes) and percent of copy bandwidth; prefill TFLOP/s and the ratio
 * to cuBLAS. Run on a GPU host: {@code bash .gpu-bundle/run main io.tpkernels.bench.LmHeadGpuBench}.
 */
public final class LmHeadGpuBench {
    private static final int WARMUP = 5;
    private static final int RUNS = 25;
    private static final int ROTATE = 3;
    private static final int HIDDEN = 8192;
    private static final int[] TOKENS = {1, 8, 16, 4096};

    private LmHeadGpuBench() {
    }

    public static void main(String[] args) {
        CudaDevice device = CudaDevice.of(0);
        Device gpu = device.device();
        VocabShard shard = VocabShard.of(EmbeddingShapes.VOCAB, EmbeddingShapes.TP, 0, VocabShard.DEFAULT_MULTIPLE);
        int valid = (int) shard.validRows();
        long s = shard.shardSize();
        System.out.printf(Locale.ROOT, "%s, W [%d, %d] BF16 of S = %d, F32 logits%n", device, valid, HIDDEN, s);
        System.out.printf("%-6s %10s %10s %9s %8s %10s %8s%n", "T", "ours ms", "GB/s", "TFLOP/s", "% copy",
                "cuBLAS ms", "ratio");
        Owned owned = new Owned();
        try (CudaStream stream = CudaStream.create(device); GpuTimer timer = new GpuTimer(device, stream)) {
            SplittableRandom r = new SplittableRandom(7);
            Tensor wHost = owned.add(Tensor.allocate(Device.CPU, DType.BF16, valid, HIDDEN));
            EmbeddingShapes.fillRandomBf16(wHost.hostSegment(), r);
            Tensor w = owned.add(wHost.copyTo(gpu));
            long wBytes = (long) valid * HIDDEN * 2;
            Tensor scratch = owned.add(Tensor.allocate(gpu, DType.BF16, 2, valid, HIDDEN));
            double copyMs = timer.medianMillis(WARMUP, RUNS, i -> CudaDriver.memcpyDtoDAsync(
                    scratch.devicePointer() + (i % 2) * wBytes, w.devicePointer(), wBytes, stream.handle()));
            double copyGbs = 2.0 * wBytes / (copyMs * 1e6);
            for (int t : TOKENS) {
                Tensor[] xs = new Tensor[ROTATE];
                Tensor[] outs = new Tensor[ROTATE];
                for (int i = 0; i < ROTATE; i++) {
                    Tensor xh = owned.add(Tensor.allocate(Device.CPU, DType.BF16, t, HIDDEN));
                    EmbeddingShapes.fillRandomBf16(xh.hostSegment(), r);
                    xs[i] = owned.add(xh.copyTo(gpu));
                    outs[i] = owned.add(Tensor.allocate(gpu, DType.F32, t, s));
                }
                double ours = timer.medianMillis(WARMUP, RUNS, i -> LmHead.logits(xs[i % ROTATE], w, outs[i % ROTATE], stream));
                double cublas = CublasGemm.isAvailable() ? timer.medianMillis(WARMUP, RUNS,
                        i -> CublasGemm.multiplyNT(xs[i % ROTATE], w, outs[i % ROTATE], stream)) : Double.NaN;
                double bytes = wBytes + (double) t * HIDDEN * 2 + (double) t * s * 4;
                double gbs = bytes / (ours * 1e6);
                double tflops = 2.0 * t * valid * HIDDEN / (ours * 1e9);
                System.out.printf(Locale.ROOT, "%-6d %10.4f %10.1f %9.1f %7.1f%% %10.4f %7.3fx%n", t, ours, gbs, tflops,
                        100 * gbs / copyGbs, cublas, cublas / ours);
            }
            System.out.printf(Locale.ROOT, "device-to-device copy: %.1f GB/s%n", copyGbs);
        } finally {
            device.synchronize();
            owned.close();
        }
    }

}
