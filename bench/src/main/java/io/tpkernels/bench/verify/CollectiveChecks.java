package io.tpkernels.bench.verify;

import io.tpkernels.collective.LocalGroup;
import io.tpkernels.collective.NcclGroup;
import io.tpkernels.collective.ProcessGroup;
import io.tpkernels.collective.ReduceOp;
import io.tpkernels.ffm.nccl.Nccl;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import java.time.Duration;
import java.util.List;

/**
 * The collectives' kernels: two in-process ranks on the one device (the reduction and the slab copies of the
 * all-gather, ordered by events between the ranks' streams), and NCCL at world size 1 where it is installed.
 */
final class CollectiveChecks {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private CollectiveChecks() {
    }

    static List<Check> checks(ExecutionContext gpu, boolean quick) {
        return List.of(new Check("collective all-reduce, in process", () -> localAllReduce(gpu, quick)),
                new Check("collective all-gather, in process", () -> localAllGather(gpu, quick)),
                new Check("nccl all-reduce", () -> ncclAllReduce(gpu, quick)));
    }

    /** Rank r holds r + 1 times one random tensor: the sum over 2 ranks is 3 times it, in either order exactly. */
    private static VerifyRow localAllReduce(ExecutionContext gpu, boolean quick) {
        int n = quick ? 1000 : 1 << 20;
        String shape = "2 ranks, n=" + n;
        float[] base;
        try (Operands ops = new Operands(Device.CPU, 41)) {
            base = ops.host(DType.F32, n).toFloatArray();
        }
        float[] want = new float[n];
        for (int i = 0; i < n; i++) {
            want[i] = base[i] + 2 * base[i];
        }
        List<float[]> got = LocalGroup.run(2, TIMEOUT, group -> {
            float[] mine = new float[n];
            for (int i = 0; i < n; i++) {
                mine[i] = (group.rank() + 1) * base[i];
            }
            try (ExecutionContext ctx = ExecutionContext.create(gpu.device(), gpu.tuning());
                 Tensor host = Tensor.ofFloats(DType.F32, mine, n);
                 Tensor t = host.copyTo(gpu.device())) {
                group.allReduce(ctx, t, ReduceOp.SUM);
                return t.toFloatArray();
            }
        });
        double error = Math.max(Deviation.relative(want, got.get(0)), Deviation.relative(want, got.get(1)));
        return VerifyRow.measured("collective all-reduce, in process", "tpk_reduce_sum_f32", shape, "F32", error, 0);
    }

    /** Each rank's [4, w] slab gathered along the columns: the copies of the copy-rows kernel. */
    private static VerifyRow localAllGather(ExecutionContext gpu, boolean quick) {
        int rows = 4;
        int w = quick ? 33 : 4097;
        String shape = "2 ranks, [" + rows + ", " + w + "] each, along dimension 1";
        float[][] parts = new float[2][];
        try (Operands ops = new Operands(Device.CPU, 43)) {
            parts[0] = ops.host(DType.BF16, rows, w).toFloatArray();
            parts[1] = ops.host(DType.BF16, rows, w).toFloatArray();
        }
        float[] want = new float[rows * 2 * w];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(parts[0], r * w, want, r * 2 * w, w);
            System.arraycopy(parts[1], r * w, want, r * 2 * w + w, w);
        }
        List<float[]> got = LocalGroup.run(2, TIMEOUT, group -> {
            try (ExecutionContext ctx = ExecutionContext.create(gpu.device(), gpu.tuning());
                 Tensor host = Tensor.ofFloats(DType.BF16, parts[group.rank()], rows, w);
                 Tensor t = host.copyTo(gpu.device());
                 Tensor all = group.allGather(ctx, t, 1)) {
                return all.toFloatArray();
            }
        });
        double error = Math.max(Deviation.relative(want, got.get(0)), Deviation.relative(want, got.get(1)));
        return VerifyRow.measured("collective all-gather, in process", "tpk_copy_rows_*", shape, "BF16", error, 0);
    }

    /** NCCL's all-reduce of one rank: the tensor unchanged. */
    private static VerifyRow ncclAllReduce(ExecutionContext gpu, boolean quick) {
        int n = quick ? 1000 : 1 << 20;
        String shape = "world size 1, n=" + n;
        if (!NcclGroup.isAvailable()) {
            return VerifyRow.skipped("nccl all-reduce", shape, "F32", "NCCL was not found");
        }
        try (Operands ops = new Operands(gpu.device(), 47);
             ProcessGroup group = NcclGroup.initRank(gpu.cudaDevice(), 0, 1, Nccl.uniqueId(), TIMEOUT)) {
            Tensor host = ops.host(DType.F32, n);
            Tensor t = ops.onDevice(host);
            group.allReduce(gpu, t, ReduceOp.SUM);
            return VerifyRow.measured("nccl all-reduce", "ncclAllReduce", shape, "F32",
                    Deviation.relative(host.toFloatArray(), t.toFloatArray()), 0);
        }
    }
}
