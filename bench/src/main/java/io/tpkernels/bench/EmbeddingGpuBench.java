package io.tpkernels.bench;

import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.gpu.CudaDevice;
import io.tpkernels.gpu.CudaStream;
import io.tpkernels.ops.EmbeddingLookup;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Device;
import io.tpkernels.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The masked lookup on a GPU, timed with events (median of 25 runs after 5 warm-ups, outputs rotated over
 * three buffers so they do not sit in L2), against two yardsticks measured in the same run: the
 * device-to-device copy bandwidth (a copy of the same output bytes) and the same kernel with masking off
 * (every id inside the shard, so every row is gathered). GB/s counts bytes read (gathered rows and ids) plus
 * written. Run on a GPU host: {@code bash .gpu-bundle/run main io.tpkernels.bench.EmbeddingGpuBench}.
 */
public final class EmbeddingGpuBench {
    private static final int WARMUP = 5;
    private static final int RUNS = 25;
    private static final int ROTATE = 3;

    private EmbeddingGpuBench() {
    }

    public static void main(String[] args) {
        CudaDevice device = CudaDevice.of(0);
        Device gpu = device.device();
        VocabShard shard = VocabShard.of(EmbeddingShapes.VOCAB, EmbeddingShapes.TP, 0, VocabShard.DEFAULT_MULTIPLE);
        System.out.printf(Locale.ROOT, "%s, vocab %d over tp %d (rank 0: %d rows), BF16%n", device, shard.vocabSize(),
                shard.tpSize(), shard.validRows());
        System.out.printf("%-7s %-6s %10s %9s %8s %12s %10s %9s%n", "T", "H", "masked ms", "GB/s", "% copy",
                "unmasked ms", "ratio", "copy GB/s");
        try (CudaStream stream = CudaStream.create(device); GpuTimer timer = new GpuTimer(device, stream)) {
            for (EmbeddingShapes.Shape s : EmbeddingShapes.SHAPES) {
                run(device, gpu, shard, s, stream, timer);
            }
        }
    }

    private static void run(CudaDevice device, Device gpu, VocabShard shard, EmbeddingShapes.Shape s, CudaStream stream,
                            GpuTimer timer) {
        SplittableRandom r = new SplittableRandom(s.tokens() * 31L + s.hidden());
        long rowBytes = (long) s.hidden() * 2;
        Owned owned = new Owned();
        try {
            Tensor wHost = owned.add(Tensor.allocate(Device.CPU, DType.BF16, shard.validRows(), s.hidden()));
            EmbeddingShapes.fillRandomBf16(wHost.hostSegment(), r);
            Tensor w = owned.add(wHost.copyTo(gpu));
            long[] anyIds = r.longs(s.tokens(), 0, shard.vocabSize()).toArray();
            long[] inShard = r.longs(s.tokens(), 0, shard.validRows()).toArray();
            Tensor ids = owned.add(owned.add(Tensor.ofLongs(DType.I32, anyIds, s.tokens())).copyTo(gpu));
            Tensor idsIn = owned.add(owned.add(Tensor.ofLongs(DType.I32, inShard, s.tokens())).copyTo(gpu));
            Tensor[] outs = new Tensor[ROTATE];
            for (int i = 0; i < ROTATE; i++) {
                outs[i] = owned.add(Tensor.allocate(gpu, DType.BF16, s.tokens(), s.hidden()));
            }
            long gathered = java.util.Arrays.stream(anyIds).filter(shard::contains).count();
            // Each launch's bad-id check is read after the timing, so the timed loop never waits on the host.
            List<EmbeddingLookup.Pending> checks = new ArrayList<>();
            double masked = timer.medianMillis(WARMUP, RUNS, i -> checks.add(EmbeddingLookup.maskedAsync(ids, w,
                    shard.start(), shard.validRows(), shard.vocabSize(), outs[i % ROTATE], stream)));
            double unmasked = timer.medianMillis(WARMUP, RUNS, i -> checks.add(EmbeddingLookup.maskedAsync(idsIn, w, 0,
                    shard.validRows(), shard.validRows(), outs[i % ROTATE], stream)));
            checks.forEach(EmbeddingLookup.Pending::await);
            long outBytes = s.tokens() * rowBytes;
            double copy = timer.medianMillis(WARMUP, RUNS, i -> CudaDriver.memcpyDtoDAsync(
                    outs[i % ROTATE].devicePointer(), outs[(i + 1) % ROTATE].devicePointer(), outBytes, stream.handle()));
            double copyGbs = 2.0 * outBytes / (copy * 1e6);
            double maskedGbs = (gathered * rowBytes + outBytes + 4L * s.tokens()) / (masked * 1e6);
            System.out.printf(Locale.ROOT, "%-7d %-6d %10.4f %9.1f %7.1f%% %12.4f %9.3fx %9.1f%n", s.tokens(),
                    s.hidden(), masked, maskedGbs, 100 * maskedGbs / copyGbs, unmasked, masked / unmasked, copyGbs);
        } finally {
            stream.synchronize();
            owned.close();
        }
    }

}
