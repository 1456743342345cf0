package io.tpkernels.ops;

import static io.tpkernels.cuda.sources.KernelConstants.CROSS_ENTROPY_THREADS;
import static io.tpkernels.cuda.sources.KernelConstants.GEMM_MMA_BM;
import static io.tpkernels.cuda.sources.KernelConstants.GEMM_MMA_BN;
import static io.tpkernels.cuda.sources.KernelConstants.GEMM_MMA_SMEM_BYTES;
import static io.tpkernels.cuda.sources.KernelConstants.GEMM_MMA_THREADS;
import static io.tpkernels.cuda.sources.KernelConstants.LMHEAD_CE_BACKWARD_SMEM_BYTES;

import io.tpkernels.cuda.sources.KernelNames;
import io.tpkernels.runtime.CudaKernel;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.KernelArgs;
import io.tpkernels.runtime.Memory;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.runtime.Tuning;

/**
 * {@link LmHeadCrossEntropy} on a GPU with the logits folded in the LM head GEMM's epilogue ({@code lm_head_ce.cu}):
 * each 128 × 128 tile of logits lives in a block's accumulators only. The forward's blocks own a row block and a
 * group of column tiles and keep their rows' running statistics on chip; the groups' statistics meet in one small
 * kernel ({@code O(G·T)} scratch, {@code G} chosen so that about two blocks run per SM). The backward's blocks each
 * compute one tile again, form {@code dz} in registers and add {@code dz·W_tile} (and {@code dz_tileᵀ·X}) into the
 * F32 outputs on tensor cores. F16 and BF16 with {@code H} a multiple of 8 (16-byte rows), on devices whose blocks may
 * hold about 125 KB of shared memory (sm_80, sm_90); other shapes and devices take the chunked form.
 */
final class LmHeadCrossEntropyCuda {
    /** Blocks per SM the forward's column groups aim for. */
    private static final int FORWARD_BLOCKS_PER_SM = 2;
    /** The backward's grid has a block per column tile on y, which CUDA bounds. */
    private static final long MAX_GRID_Y = 65535;
    /**
     * A bound on the kernels' static shared memory, beside their dynamic one (ptxas: 12,304 bytes forward, 3,728
     * backward): a block's static and dynamic shared memory together must fit what it may opt in to.
     */
    static final int STATIC_SHARED_BOUND = 16 << 10;

    private LmHeadCrossEntropyCuda() {
    }

    /** Whether the epilogue-fused kernels take this product, as the context's tuning asks. */
    static boolean takes(ExecutionContext ctx, Tensor x, Tensor weightShard) {
        DType in = x.dtype();
        long h = x.dim(1);
        long tiles = (weightShard.dim(0) + GEMM_MMA_BN - 1) / GEMM_MMA_BN;
        return ctx.isCuda() && ctx.tuning().lmHeadLoss() == Tuning.LmHeadLoss.FUSED
                && (in == DType.BF16 || in == DType.F16) && weightShard.dtype() == in
                && h > 0 && h % 8 == 0 && h <= Integer.MAX_VALUE && x.dim(0) <= Integer.MAX_VALUE
                && tiles <= MAX_GRID_Y && sharedMemoryFits(ctx.cudaDevice().maxSharedBytesPerBlock())
                && GemmCuda.aligned(x.devicePointer(), weightShard.devicePointer());
    }

    /**
     * Whether a block of each kernel fits a device whose blocks may opt in to {@code maxSharedBytesPerBlock} bytes of
     * shared memory: the A100's 163 KB and Hopper's 227 KB do; the 99 KB of sm_86 and sm_89 do not (the backward
     * holds two stages of W and X slices and dz's tile), and those devices take the chunked form.
     */
    static boolean sharedMemoryFits(int maxSharedBytesPerBlock) {
        int most = Math.max(GEMM_MMA_SMEM_BYTES, LMHEAD_CE_BACKWARD_SMEM_BYTES) + STATIC_SHARED_BOUND;
        return maxSharedBytesPerBlock >= most;
    }

    /**
     * This rank's statistics of each row over the shard's valid columns: {@code localMax} and {@code rowMax} both
     * get the row's maximum, {@code packed} its {@code (ties, rest, target)} ({@code (0, 0, 0)} for an ignored token).
     * Queued.
     */
    static void statistics(ExecutionContext ctx, Tensor x, Tensor weightShard, Tensor targets, long start,
                           Tensor localMax, Tensor rowMax, Tensor packed) {
        long rowBlocks = (x.dim(0) + GEMM_MMA_BM - 1) / GEMM_MMA_BM;
        long tiles = (weightShard.dim(0) + GEMM_MMA_BN - 1) / GEMM_MMA_BN;
        long fill = ((long) ctx.cudaDevice().multiprocessors() * FORWARD_BLOCKS_PER_SM + rowBlocks - 1)
                / Math.max(rowBlocks, 1);
        int groups = (int) Math.max(1, Math.min(tiles, fill));
        statistics(ctx, x, weightShard, targets, start, localMax, rowMax, packed, groups);
    }

    /** As above, with the column tiles dealt to {@code groups} blocks per row block. */
    @SuppressWarnings("try")
    static void statistics(ExecutionContext ctx, Tensor x, Tensor weightShard, Tensor targets, long start,
                           Tensor localMax, Tensor rowMax, Tensor packed, int groups) {
        long t = x.dim(0);
        if (t == 0) {
            return;
        }
        long valid = weightShard.dim(0);
        int rowBlocks = blocks(t, GEMM_MMA_BM);
        int i64 = targets.dtype() == DType.I64 ? 1 : 0;
        try (Tensor partMax = Tensor.allocate(ctx, DType.F32, groups, t);
             Tensor partPacked = Tensor.allocate(ctx, DType.F32, groups, t, 3);
             Memory.Access use = Tensor.acquireAll(x, weightShard, targets, localMax, rowMax, packed, partMax,
                     partPacked)) {
            CudaKernel forward = kernel(ctx, x.dtype() == DType.BF16 ? KernelNames.TPK_LMHEAD_CE_FORWARD_BF16
                    : KernelNames.TPK_LMHEAD_CE_FORWARD_F16);
            forward.allowDynamicSharedBytes(GEMM_MMA_SMEM_BYTES);
            forward.launch(ctx, rowBlocks, groups, 1, GEMM_MMA_THREADS, 1, 1, GEMM_MMA_SMEM_BYTES,
                    KernelArgs.begin().ptr(partMax.devicePointer()).ptr(partPacked.devicePointer())
                            .ptr(x.devicePointer()).ptr(weightShard.devicePointer()).ptr(targets.devicePointer())
                            .i32(i64).i32((int) t).i32((int) x.dim(1)).i64(valid).i64(start));
            int foldBlocks = VocabParallelCrossEntropyCuda.elementBlocks(ctx, t);
            kernel(ctx, KernelNames.TPK_LMHEAD_CE_FOLD).launch(ctx, foldBlocks, CROSS_ENTROPY_THREADS, 0,
                    KernelArgs.begin().ptr(localMax.devicePointer()).ptr(rowMax.devicePointer())
                            .ptr(packed.devicePointer()).ptr(partMax.devicePointer()).ptr(partPacked.devicePointer())
                            .ptr(targets.devicePointer()).i32(i64).i64(t).i32(groups));
        }
        ctx.wrote(localMax);
        ctx.wrote(rowMax);
        ctx.wrote(packed);
    }

    /**
     * Adds this rank's partial {@code dX = dz·W_r} into {@code dx} (F32 {@code [T, H]}) and, with {@code dW} not
     * null, {@code dz_rᵀ·X} into it (F32 {@code [valid, H]}), with {@code dz = scale·(softmax − onehot)} from the
     * forward's statistics. Queued.
     */
    @SuppressWarnings("try")
    static void backward(ExecutionContext ctx, VocabParallelCrossEntropy.Forward saved, Tensor x, Tensor weightShard,
                         Tensor targets, double gradOutput, Tensor dx, Tensor dW) {
        long t = x.dim(0);
        long valid = weightShard.dim(0);
        if (t == 0 || valid == 0) {
            return;
        }
        double scale = saved.count() == 0 ? 0 : gradOutput / saved.count();
        try (Memory.Access use = Tensor.acquireAll(x, weightShard, targets, saved.rowMax(), saved.sumExp(), dx);
             Memory.Access useDw = dW == null ? null : dW.acquire()) {
            CudaKernel backward = kernel(ctx, x.dtype() == DType.BF16 ? KernelNames.TPK_LMHEAD_CE_BACKWARD_BF16
                    : KernelNames.TPK_LMHEAD_CE_BACKWARD_F16);
            backward.allowDynamicSharedBytes(LMHEAD_CE_BACKWARD_SMEM_BYTES);
            backward.launch(ctx, blocks(t, GEMM_MMA_BM), blocks(valid, GEMM_MMA_BN), 1, GEMM_MMA_THREADS, 1, 1,
                    LMHEAD_CE_BACKWARD_SMEM_BYTES,
                    KernelArgs.begin().ptr(dx.devicePointer()).ptr(dW == null ? 0 : dW.devicePointer())
                            .ptr(x.devicePointer()).ptr(weightShard.devicePointer()).ptr(targets.devicePointer())
                            .i32(targets.dtype() == DType.I64 ? 1 : 0).ptr(saved.rowMax().devicePointer())
                            .ptr(saved.sumExp().devicePointer()).i32((int) t).i32((int) x.dim(1)).i64(valid)
                            .i64(saved.shard().start()).f64(scale).i32(saved.count() > 0 ? 1 : 0));
        }
        ctx.wrote(dx);
        if (dW != null) {
            ctx.wrote(dW);
        }
    }

    private static CudaKernel kernel(ExecutionContext ctx, String name) {
        return ctx.kernel(KernelNames.MODULE_LM_HEAD_CE, name);
    }

    private static int blocks(long n, int per) {
        return Math.toIntExact((n + per - 1) / per);
    }
}
