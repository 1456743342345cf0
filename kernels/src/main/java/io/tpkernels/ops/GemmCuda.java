package io.tpkernels.ops;

import static io.tpkernels.cuda.sources.KernelConstants.GEMM_DECODE_MAX_T;
import static io.tpkernels.cuda.sources.KernelConstants.GEMM_DECODE_THREADS;
import static io.tpkernels.cuda.sources.KernelConstants.GEMM_MMA_BM;
import static io.tpkernels.cuda.sources.KernelConstants.GEMM_MMA_BN;
import static io.tpkernels.cuda.sources.KernelConstants.GEMM_MMA_DECODE_COLS;
import static io.tpkernels.cuda.sources.KernelConstants.GEMM_MMA_DECODE_THREADS;
import static io.tpkernels.cuda.sources.KernelConstants.GEMM_MMA_SMEM_BYTES;
import static io.tpkernels.cuda.sources.KernelConstants.GEMM_MMA_THREADS;
import static io.tpkernels.cuda.sources.KernelConstants.GEMM_PAD_THREADS;
import static io.tpkernels.cuda.sources.KernelConstants.GEMM_SIMT_BM;
import static io.tpkernels.cuda.sources.KernelConstants.GEMM_SIMT_BN;
import static io.tpkernels.cuda.sources.KernelConstants.GEMM_SIMT_THREADS;
import static io.tpkernels.cuda.sources.KernelConstants.SM90_BK;
import static io.tpkernels.cuda.sources.KernelConstants.SM90_PP_BM;
import static io.tpkernels.cuda.sources.KernelConstants.SM90_PP_BN;
import static io.tpkernels.cuda.sources.KernelConstants.SM90_PP_SMEM_BYTES;
import static io.tpkernels.cuda.sources.KernelConstants.SM90_THREADS;
import static io.tpkernels.cuda.sources.KernelConstants.SM90_V1_BM;
import static io.tpkernels.cuda.sources.KernelConstants.SM90_V1_BN;
import static io.tpkernels.cuda.sources.KernelConstants.SM90_V1_SMEM_BYTES;
import static io.tpkernels.cuda.sources.KernelConstants.SM90_V1_SMEM_BYTES_PER_RANK;

import io.tpkernels.cuda.sources.KernelNames;
import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.CudaKernel;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.KernelArgs;
import io.tpkernels.runtime.Memory;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.runtime.TensorMaps;
import io.tpkernels.runtime.Tuning;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Locale;

/**
 * The GPU GEMM the LM head and the LoRA linear share ({@code gemm.cuh}): one launch computing
 * <pre>
 *   out[t, j] = c[j]·alpha·(Σ_k x[t, k]·w[j, k] + Σ_r xa[t, r]·b[j, r]) + bias[j]   for j &lt; valid
 *   out[t, j] = −∞                                                                for valid ≤ j &lt; S
 * </pre>
 * with the kernel body chosen by shape and dtype: for {@code T ≤ 16} with 16-byte rows the decode bodies stream
 * the weights once (on tensor cores for F16/BF16); larger F16/BF16 GEMMs with {@code K} and {@code R}
 * multiples of 8 run on tensor cores: on an sm_90 device through TMA and wgmma ({@code gemm_sm90.cu}, or its
 * persistent ping-pong v2 {@code gemm_sm90_pingpong.cu}, as the context's {@link io.tpkernels.runtime.Tuning#hopperGemm()} says), elsewhere through mma.sync,
 * and narrow outputs ({@code S ≤ 16}, no padding, bias or column scale: LoRA's shrink) through the decode body
 * transposed; anything else takes the SIMT body. {@code xa}, {@code b}, {@code bias} and the column scale
 * {@code c} (F32 {@code [valid]}, DoRA's) may be {@code null}; without {@code c} the result is bit for bit what it
 * was before there was one.
 */
final class GemmCuda {
    /** Largest T the decode body takes. */
    static final int DECODE_MAX_T = GEMM_DECODE_MAX_T;
    private static final int DECODE_BLOCKS_PER_SM = 16;
    /** gemm_sm90.cu (wg:: there): one block per 128 x 256 tile, 4 stages of 48 KB, 2 mbarriers per stage. */
    private static final Hopper V1 = new Hopper(KernelNames.MODULE_GEMM_SM90, Path.WGMMA, SM90_V1_BM, SM90_V1_BN,
            SM90_V1_SMEM_BYTES, false);
    /**
     * gemm_sm90_pingpong.cu (pp:: there): persistent blocks over 128 x 128 tiles, 6 stages of 32 KB, 2 mbarriers per
     * stage and one turn per consumer.
     */
    private static final Hopper PINGPONG = new Hopper(KernelNames.MODULE_GEMM_SM90_PINGPONG, Path.WGMMA_PP,
            SM90_PP_BM, SM90_PP_BN, SM90_PP_SMEM_BYTES, true);
    /** The ranks the on-chip shrink is built for ({@code tpk_gemm_wgmma_lora<RB>_*}): a rank R takes the first RB ≥ R. */
    private static final int[] ON_CHIP_RANKS = {16, 32, 64};
    /** The largest LoRA rank whose shrink the fused Hopper kernel computes on chip. */
    static final int ON_CHIP_MAX_RANK = ON_CHIP_RANKS[ON_CHIP_RANKS.length - 1];

    /** {@code tpk_gemm_<path>_<in>_<out>} by ordinals, built once so a launch builds no strings. */
    private static final String[][][] NAMES = new String[Path.values().length][DType.values().length][DType.values().length];

    /** {@code tpk_gemm_wgmma_lora<RB>_<in>_<out>} by index in {@link #ON_CHIP_RANKS} and ordinals. */
    private static final String[][][] LORA_NAMES = new String[ON_CHIP_RANKS.length][DType.values().length][DType.values().length];

    static {
        for (DType in : DType.values()) {
            for (DType out : DType.values()) {
                String types = "_" + in.name().toLowerCase(Locale.ROOT) + "_" + out.name().toLowerCase(Locale.ROOT);
                for (Path p : Path.values()) {
                    NAMES[p.ordinal()][in.ordinal()][out.ordinal()] = "tpk_gemm_" + p.name().toLowerCase(Locale.ROOT) + types;
                }
                for (int i = 0; i < ON_CHIP_RANKS.length; i++) {
                    LORA_NAMES[i][in.ordinal()][out.ordinal()] = "tpk_gemm_wgmma_lora" + ON_CHIP_RANKS[i] + types;
                }
            }
        }
    }

    private GemmCuda() {
    }

    /**
     * The kernel bodies. WGMMA is gemm_sm90.cu's, WGMMA_PP gemm_sm90_pingpong.cu's; the others are gemm.cuh's, but
     * CUBLAS, which is cuBLAS's GEMM: taken only in place of a body that failed its self-check.
     */
    enum Path { MMA_DECODE, MMA_DECODE_T, DECODE, WGMMA, WGMMA_PP, MMA, SIMT, CUBLAS }

    /**
     * A Hopper kernel's launch: its module and path, its output tile (X and XA in boxes of 64 k × bm rows, W and B in
     * boxes of 64 × bn), its dynamic shared memory, and whether its grid is persistent (one block per SM at most,
     * each looping over tiles) or one block per tile.
     */
    private record Hopper(String module, Path path, int bm, int bn, int sharedBytes, boolean persistent) {
        static Hopper of(Path path) {
            return path == Path.WGMMA ? V1 : PINGPONG;
        }

        static Hopper of(Tuning.HopperGemm variant) {
            return variant == Tuning.HopperGemm.PINGPONG ? PINGPONG : V1;
        }
    }

    /** Whether every pointer is 16-byte aligned, as the tensor-core and decode bodies load 16 bytes at a time. */
    static boolean aligned(long... pointers) {
        boolean aligned = true;
        for (long p : pointers) {
            aligned &= p % 16 == 0;
        }
        return aligned;
    }

    /** The body for this shape by the rules of the class comment, given whether the operands' pointers are aligned. */
    static Path path(DType dtype, long tokens, long k, long r, boolean pointersAligned) {
        boolean aligned = pointersAligned && (k * dtype.byteSize()) % 16 == 0 && (r * dtype.byteSize()) % 16 == 0;
        if (tokens <= DECODE_MAX_T && aligned) {
            return dtype == DType.F32 ? Path.DECODE : Path.MMA_DECODE;
        }
        if (dtype != DType.F32 && aligned) {
            return Path.MMA;
        }
        return Path.SIMT;
    }

    /** A GEMM's body and its kernel (none for {@link Path#CUBLAS}), as chosen for a shape, its dtypes and a context. */
    record Choice(Path path, CudaKernel kernel) {
        /** The kernel's name, as the PTX names it, or {@link #CUBLAS_NAME}. */
        String kernelName() {
            return kernel == null ? CUBLAS_NAME : kernel.name();
        }
    }

    /**
     * The body and kernel for {@code t} tokens of {@code x [t, k]} by {@code w}'s first {@code valid} rows into
     * {@code s} output columns of {@code out}, with a LoRA term of rank {@code r} (0 for none), an epilogue (bias or
     * column scale) or not, and operand pointers aligned or not. The choice depends on {@code t} only through
     * {@code t ≤ }{@link #DECODE_MAX_T}: a layer chooses once per side of it ({@link Linear#plan},
     * {@link LoraLinear#plan}).
     */
    static Choice choose(ExecutionContext ctx, DType in, DType out, long t, long k, long r, boolean epilogue,
                         long valid, long s, boolean pointersAligned) {
        Path path = path(in, t, k, r, pointersAligned);
        if (path == Path.MMA) {
            path = tensorCoreBody(ctx, in, out, k, r, epilogue, valid, s);
        }
        Choice choice = choice(ctx, path, in, out);
        if (!ctx.tuning().selfCheck()) {
            return choice;
        }
        // A body that fails its self-check gives way: to cuBLAS where it computes the same (below), else to a
        // simpler body of ours, Hopper to mma.sync, tensor cores to SIMT.
        boolean cublas = cublasTakes(in, out, r, epilogue, valid, s);
        while (choice.path() != Path.SIMT && choice.path() != Path.CUBLAS) {
            Choice tried = choice;
            Path next = cublas ? Path.CUBLAS
                    : tried.path() == Path.WGMMA || tried.path() == Path.WGMMA_PP ? Path.MMA : Path.SIMT;
            String fallback = next == Path.CUBLAS ? CUBLAS_NAME : NAMES[next.ordinal()][in.ordinal()][out.ordinal()];
            if (ctx.cudaDevice().kernelHealth().usable(tried.kernel().name(), fallback,
                    checking -> SelfChecks.gemm(checking, tried, in, out))) {
                break;
            }
            choice = choice(ctx, next, in, out);
        }
        return choice;
    }

    /** What a {@link Path#CUBLAS} choice names as its kernel. */
    static final String CUBLAS_NAME = "cublasGemmEx";

    /**
     * Whether cuBLAS computes what the bodies would, with the one rounding the contract asks: a plain product (no
     * LoRA term, no bias or column scale, which would each round once more) in dtypes cuBLAS takes, its padding
     * columns, if any, in F32 or BF16 logits ({@link #padColumns} writes them).
     */
    private static boolean cublasTakes(DType in, DType out, long r, boolean epilogue, long valid, long s) {
        return r == 0 && !epilogue && CublasGemm.isAvailable() && CublasGemm.supports(in, out)
                && (valid == s || out == DType.F32 || out == DType.BF16);
    }

    private static Choice choice(ExecutionContext ctx, Path path, DType in, DType out) {
        if (path == Path.CUBLAS) {
            return new Choice(path, null);
        }
        String module = path == Path.WGMMA || path == Path.WGMMA_PP ? Hopper.of(path).module() : KernelNames.MODULE_GEMM;
        return new Choice(path, ctx.kernel(module, NAMES[path.ordinal()][in.ordinal()][out.ordinal()]));
    }

    /** Queues the GEMM on {@code ctx}'s stream, its body chosen now; shapes checked by the caller. */
    static void launch(Tensor x, Tensor w, Tensor xa, Tensor b, Tensor bias, Tensor columnScale, long valid,
                       float alpha, Tensor out, ExecutionContext ctx) {
        launch(null, x, w, xa, b, bias, columnScale, valid, alpha, out, ctx);
    }

    /**
     * Queues the GEMM through {@code planned}, a {@link #choose choice} made earlier for this shape and side of
     * {@link #DECODE_MAX_T} with aligned pointers (or {@code null}: choose now). Operands whose pointers turn out
     * not to be aligned are chosen for now, whatever was planned.
     */
    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    static void launch(Choice planned, Tensor x, Tensor w, Tensor xa, Tensor b, Tensor bias, Tensor columnScale,
                       long valid, float alpha, Tensor out, ExecutionContext ctx) {
        try (Memory.Access use = Tensor.acquireAll(x, w, xa, b, bias, columnScale, out)) {
            long t = x.dim(0);
            long k = x.dim(1);
            long r = xa == null ? 0 : xa.dim(1);
            long s = out.dim(1);
            if (t == 0 || s == 0) {
                return;
            }
            CudaDevice device = out.cudaDevice();
            long xPtr = x.devicePointer();
            long wPtr = valid == 0 ? xPtr : w.devicePointer(); // no valid rows: W is never read
            long xaPtr = r == 0 ? 0 : xa.devicePointer();
            long bPtr = r == 0 || valid == 0 ? 0 : b.devicePointer();
            boolean aligned = aligned(xPtr, wPtr, xaPtr, bPtr);
            Choice choice = planned != null && aligned ? planned
                    : choose(ctx, x.dtype(), out.dtype(), t, k, r, bias != null || columnScale != null, valid, s,
                            aligned);
            Path path = choice.path();
            CudaKernel kernel = choice.kernel();
            if (path == Path.CUBLAS) {
                launchCublas(x, w, valid, alpha, out, ctx);
                return;
            }
            if (path == Path.MMA_DECODE_T) {
                launchNarrow(kernel, x, w, alpha, out, ctx);
                return;
            }
            if (path == Path.WGMMA || path == Path.WGMMA_PP) {
                launchWgmma(Hopper.of(path), kernel, x, w, xa, b, bias, columnScale, valid, alpha, out, ctx);
                return;
            }
            KernelArgs args = KernelArgs.begin().ptr(out.devicePointer()).ptr(xPtr).ptr(wPtr).ptr(xaPtr).ptr(bPtr)
                    .ptr(pointer(bias)).ptr(pointer(columnScale)).i32(Math.toIntExact(t)).i32(Math.toIntExact(k))
                    .i32(Math.toIntExact(r)).i64(valid).i64(s).f32(alpha);
            switch (path) {
                case MMA_DECODE ->
                        kernel.launch(ctx, blocks(s, GEMM_MMA_DECODE_COLS), GEMM_MMA_DECODE_THREADS, 0, args);
                case DECODE -> {
                    int warps = GEMM_DECODE_THREADS / 32; // a warp per output column
                    long blocks = Math.min((s + warps - 1) / warps,
                            (long) device.multiprocessors() * DECODE_BLOCKS_PER_SM);
                    kernel.launch(ctx, (int) blocks, GEMM_DECODE_THREADS, 0, args);
                }
                case WGMMA, WGMMA_PP, MMA_DECODE_T, CUBLAS -> throw new AssertionError(path + " is launched above");
                case MMA -> {
                    kernel.allowDynamicSharedBytes(GEMM_MMA_SMEM_BYTES);
                    kernel.launch(ctx, blocks(s, GEMM_MMA_BN), blocks(t, GEMM_MMA_BM), 1, GEMM_MMA_THREADS, 1, 1,
                            GEMM_MMA_SMEM_BYTES, args);
                }
                case SIMT -> kernel.launch(ctx, blocks(s, GEMM_SIMT_BN), blocks(t, GEMM_SIMT_BM), 1,
                        GEMM_SIMT_THREADS, 1, 1, 0, args);
            }
        }
    }

    /**
     * {@code out[:, :valid] = alpha·x·W[:valid]ᵀ} by cuBLAS, then {@code −∞} in the padding columns: a plain product
     * ({@link #cublasTakes}).
     */
    private static void launchCublas(Tensor x, Tensor w, long valid, float alpha, Tensor out, ExecutionContext ctx) {
        if (valid > 0) {
            // cuBLAS reads a host alpha during the call: the arena may close when it returns.
            try (Arena scalars = Arena.ofConfined(); Tensor rows = valid == w.dim(0) ? null : w.rows(0, valid)) {
                CublasGemm.multiplyNT(ctx, x, rows == null ? w : rows, out,
                        alpha == 1f ? CublasGemm.ONE : scalars.allocateFrom(ValueLayout.JAVA_FLOAT, alpha),
                        CublasGemm.ZERO);
            }
        }
        padColumns(out, valid, ctx);
    }

    /**
     * Which tensor-core body takes a shape the mma.sync body could: narrow outputs without padding, bias or column
     * scale ({@code epilogue} false: LoRA's shrink) the transposed decode body, whose store applies neither; on an
     * sm_90 device with the Hopper module loadable (and the context's tuning not saying otherwise) the wgmma body
     * the tuning names, except for outputs of one 128-wide tile or less and for {@code K = 0},
     * which a tensor map cannot describe; else mma.sync.
     */
    private static Path tensorCoreBody(ExecutionContext ctx, DType in, DType out, long k, long r, boolean epilogue,
                                       long valid, long s) {
        if (r == 0 && !epilogue && valid == s && s <= DECODE_MAX_T) {
            return Path.MMA_DECODE_T;
        }
        if (hopperTakes(ctx, k, s)) {
            Hopper hopper = Hopper.of(ctx.tuning().hopperGemm());
            String name = NAMES[hopper.path().ordinal()][in.ordinal()][out.ordinal()];
            if (ctx.cudaDevice().modules().kernelIfAvailable(hopper.module(), name, ctx.tuning().ptxSource()).isPresent()) {
                return hopper.path();
            }
        }
        return Path.MMA;
    }

    /**
     * Whether a Hopper kernel may take a tensor-core GEMM of {@code K = k} and {@code s} output columns on
     * {@code device}: not for outputs of one 128-wide tile or less, nor for {@code K = 0}, which a tensor map cannot
     * describe.
     */
    private static boolean hopperTakes(ExecutionContext ctx, long k, long s) {
        return k > 0 && s > GEMM_MMA_BN && ctx.tuning().hopperGemm() != Tuning.HopperGemm.OFF
                && ctx.cudaDevice().computeCapability() == 90;
    }

    /**
     * Queues the fused LoRA linear {@code out = c ⊙ (x·wᵀ + E(s·x·aᵀ)·bᵀ) + bias} with its shrink on chip
     * ({@code gemm_sm90.cu}) on {@code stream}, through {@code kernel}, what {@link #loraOnChipKernel} gave for these
     * operands; the column scale {@code c} may be {@code null}. Shapes checked by the caller.
     */
    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    static void launchLoraOnChip(CudaKernel kernel, Tensor x, Tensor w, Tensor a, Tensor b, float scale,
                                 Tensor columnScale, Tensor bias, Tensor out, ExecutionContext ctx) {
        try (Memory.Access use = Tensor.acquireAll(x, w, a, b, columnScale, bias, out)) {
            long t = x.dim(0);
            long k = x.dim(1);
            long r = a.dim(0);
            long n = w.dim(0);
            int rb = ON_CHIP_RANKS[onChipRankIndex(r)];
            byte[][] maps = encodeMaps(x, w, n, a, rb, b, V1);
            KernelArgs args = KernelArgs.begin().ptr(out.devicePointer()).ptr(pointer(bias)).ptr(pointer(columnScale))
                    .i32(Math.toIntExact(t)).i32(Math.toIntExact(k)).i32(Math.toIntExact(r)).i64(n).f32(scale);
            launchHopper(V1, kernel, maps, args, t, n, V1.sharedBytes() + rb * SM90_V1_SMEM_BYTES_PER_RANK,
                    out.cudaDevice(), ctx);
        }
    }

    /**
     * The kernel of the fused LoRA linear with its shrink on chip ({@code tpk_gemm_wgmma_lora<RB>}) for these
     * operands, or {@code null} where it cannot run: it needs an sm_90 device with the Hopper kernels enabled,
     * F16/BF16 with 16-byte rows and pointers, more than 16 tokens, more than 128 output columns and {@code R} up to
     * what {@link LoraShrink} allows now (at most 64).
     */
    static CudaKernel loraOnChipKernel(Tensor x, Tensor w, Tensor a, Tensor b, Tensor out, ExecutionContext ctx) {
        return loraOnChipKernel(ctx, x.dtype(), out.dtype(), x.dim(0), x.dim(1), a.dim(0), w.dim(0),
                aligned(x.devicePointer(), w.devicePointer(), a.devicePointer(), b.devicePointer()));
    }

    /** {@link #loraOnChipKernel(Tensor, Tensor, Tensor, Tensor, Tensor, ExecutionContext)} by shape. */
    static CudaKernel loraOnChipKernel(ExecutionContext ctx, DType in, DType out, long t, long k, long r, long n,
                                       boolean pointersAligned) {
        if (r > LoraShrink.maxOnChipRank(ctx.tuning().loraShrink(), ON_CHIP_MAX_RANK)
                || path(in, t, k, r, pointersAligned) != Path.MMA || !hopperTakes(ctx, k, n)) {
            return null;
        }
        String name = LORA_NAMES[onChipRankIndex(r)][in.ordinal()][out.ordinal()];
        return ctx.cudaDevice().modules().kernelIfAvailable(V1.module(), name, ctx.tuning().ptxSource()).orElse(null);
    }

    /** The index in {@link #ON_CHIP_RANKS} of the narrowest on-chip kernel for rank {@code r ≤ 64}. */
    private static int onChipRankIndex(long r) {
        int i = 0;
        while (ON_CHIP_RANKS[i] < r) {
            i++;
        }
        return i;
    }

    /**
     * A narrow product with many rows, {@code out[T, n] = alpha·x·wᵀ} with {@code n ≤ 16 < T} and no padding (LoRA's
     * shrink at prefill), as {@code outᵀ = w·xᵀ}: the decode body with {@code w} as its tokens, streaming the rows of
     * {@code x}, storing transposed.
     */
    private static void launchNarrow(CudaKernel kernel, Tensor x, Tensor w, float alpha, Tensor out, ExecutionContext ctx) {
        long t = x.dim(0);
        long n = out.dim(1);
        KernelArgs args = KernelArgs.begin().ptr(out.devicePointer()).ptr(w.devicePointer()).ptr(x.devicePointer())
                .ptr(0).ptr(0).ptr(0).ptr(0).i32(Math.toIntExact(n)).i32(Math.toIntExact(x.dim(1))).i32(0).i64(t).i64(t)
                .f32(alpha);
        kernel.launch(ctx, blocks(t, GEMM_MMA_DECODE_COLS), GEMM_MMA_DECODE_THREADS, 0, args);
    }

    /**
     * gemm_sm90.cu or gemm_sm90_pingpong.cu: the operands as tensor maps (X and XA in boxes of 64 k × bm rows, W and B
     * in boxes of 64 × bn, 128-byte swizzled); one block per bm × bn tile of out, or for a persistent kernel one per
     * tile up to one per SM.
     */
    private static void launchWgmma(Hopper hopper, CudaKernel kernel, Tensor x, Tensor w, Tensor xa, Tensor b,
                                    Tensor bias, Tensor columnScale, long valid, float alpha, Tensor out,
                                    ExecutionContext ctx) {
        long t = x.dim(0);
        long k = x.dim(1);
        long r = xa == null ? 0 : xa.dim(1);
        long s = out.dim(1);
        // With no valid rows every tile is padding and W is never read: any valid map will do.
        Tensor wOrX = valid == 0 ? x : w;
        long wRows = valid == 0 ? t : valid;
        byte[][] maps = r > 0
                ? encodeMaps(x, wOrX, wRows, xa, hopper.bm(), valid == 0 ? xa : b, hopper)
                : encodeMaps(x, wOrX, wRows, null, 0, null, hopper); // no LoRA segment: never read
        KernelArgs args = KernelArgs.begin().ptr(out.devicePointer()).ptr(pointer(bias)).ptr(pointer(columnScale))
                .i32(Math.toIntExact(t)).i32(Math.toIntExact(k)).i32(Math.toIntExact(r)).i64(valid).i64(s).f32(alpha);
        launchHopper(hopper, kernel, maps, args, t, s, hopper.sharedBytes(), out.cudaDevice(), ctx);
    }

    /**
     * The four tensor maps of a Hopper kernel: X ({@code [T, K]}) in boxes of 64 k × bm rows, the first {@code wRows}
     * rows of W in boxes of 64 × bn, the third operand (XA or LoRA's A, whole) in boxes of 64 × {@code thirdBoxRows}
     * and B (whole) in boxes of 64 × bn, all 128-byte swizzled. Without a third operand (null) the third and fourth
     * maps repeat X's and W's.
     */
    private static byte[][] encodeMaps(Tensor x, Tensor w, long wRows, Tensor third, int thirdBoxRows, Tensor b,
                                       Hopper hopper) {
        CudaDevice device = x.cudaDevice();
        DType dtype = x.dtype();
        long k = x.dim(1);
        byte[] mapX = TensorMaps.rowMajorSwizzled128(device, dtype, x.devicePointer(), x.dim(0), k, hopper.bm(), SM90_BK);
        byte[] mapW = TensorMaps.rowMajorSwizzled128(device, dtype, w.devicePointer(), wRows, k, hopper.bn(), SM90_BK);
        if (third == null) {
            return new byte[][] {mapX, mapW, mapX, mapW};
        }
        return new byte[][] {mapX, mapW,
                TensorMaps.rowMajorSwizzled128(device, dtype, third.devicePointer(), third.dim(0), third.dim(1),
                        thirdBoxRows, SM90_BK),
                TensorMaps.rowMajorSwizzled128(device, dtype, b.devicePointer(), b.dim(0), b.dim(1), hopper.bn(),
                        SM90_BK)};
    }

    /**
     * Appends the four maps to {@code args} and launches: one block per bm × bn tile of the {@code t × s} output,
     * or for a persistent kernel one per tile up to one per SM.
     */
    private static void launchHopper(Hopper hopper, CudaKernel kernel, byte[][] maps, KernelArgs args, long t,
                                     long s, int sharedBytes, CudaDevice device, ExecutionContext ctx) {
        for (byte[] map : maps) {
            args.struct(map, (int) TensorMaps.ALIGNMENT);
        }
        int tiles = Math.multiplyExact(blocks(t, hopper.bm()), blocks(s, hopper.bn()));
        int grid = hopper.persistent() ? Math.min(tiles, device.multiprocessors()) : tiles;
        kernel.allowDynamicSharedBytes(sharedBytes);
        kernel.launch(ctx, grid, SM90_THREADS, sharedBytes, args);
    }

    /** Writes −∞ into columns {@code [valid, S)} of {@code out} (after a GEMM that wrote only the valid ones). */
    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    static void padColumns(Tensor out, long valid, ExecutionContext ctx) {
        try (Memory.Access use = Tensor.acquireAll(out)) {
            long t = out.dim(0);
            long s = out.dim(1);
            if (t == 0 || s <= valid) {
                return;
            }
            if (out.dtype() != DType.F32 && out.dtype() != DType.BF16) {
                throw new IllegalArgumentException("−∞ padding columns are written into F32 or BF16 logits, not "
                        + out.describe()); // BF16's −∞ bits would be a NaN in F16
            }
            CudaDevice device = out.cudaDevice();
            String name = out.dtype() == DType.F32 ? KernelNames.TPK_PAD_COLUMNS_F32 : KernelNames.TPK_PAD_COLUMNS_BF16;
            int threads = GEMM_PAD_THREADS;
            long blocks = Math.min((t * (s - valid) + threads - 1) / threads, (long) device.multiprocessors() * 8);
            ctx.kernel(KernelNames.MODULE_GEMM, name).launch(ctx, (int) blocks, threads, 0,
                    KernelArgs.begin().ptr(out.devicePointer()).i64(t).i64(valid).i64(s));
        }
    }

    /** A tensor's device pointer, or 0 (a kernel's null) for none. */
    static long pointer(Tensor t) {
        return t == null ? 0 : t.devicePointer();
    }

    private static int blocks(long n, int tile) {
        return Math.toIntExact((n + tile - 1) / tile);
    }
}
