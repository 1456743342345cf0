package io.tpkernels.ops;

import io.tpkernels.gpu.CudaDevice;
import io.tpkernels.gpu.CudaKernel;
import io.tpkernels.gpu.CudaStream;
import io.tpkernels.gpu.KernelArgs;
import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Tensor;
import java.util.Locale;

/**
 * {@link LmHead} on a GPU: one launch of one of {@code lm_head.cu}'s kernels, chosen by shape and dtype:
 * decode ({@code T ≤ 16}, 16-byte rows) streams W once; prefill with F16/BF16 and {@code H % 8 == 0} runs on
 * tensor cores; anything else takes the SIMT kernel.
 */
final class LmHeadCuda {
    /** Largest T the decode kernel takes. */
    static final int DECODE_MAX_T = 16;
    private static final int THREADS = 256;
    private static final int MMA_TILE = 128;
    private static final int MMA_SHARED_BYTES = 3 * (128 + 128) * 40 * 2;
    private static final int SIMT_TILE = 64;
    private static final int DECODE_BLOCKS_PER_SM = 16;

    private LmHeadCuda() {
    }

    /** Which kernel family a shape takes. */
    enum Path { DECODE, MMA, SIMT }

    static Path path(DType dtype, long tokens, long hidden, long xPtr, long wPtr) {
        long rowBytes = hidden * dtype.byteSize();
        boolean aligned16 = rowBytes % 16 == 0 && xPtr % 16 == 0 && wPtr % 16 == 0;
        if (tokens <= DECODE_MAX_T && aligned16) {
            return Path.DECODE;
        }
        if (dtype != DType.F32 && hidden % 8 == 0 && aligned16) {
            return Path.MMA;
        }
        return Path.SIMT;
    }

    /**
     * Whether the LM head runs on cuBLAS ({@code -Dtpk.lmhead.backend=cublas}) instead of the hand-written
     * kernels. Off by default: the hand-written kernels stay the default wherever they are within 10% of
     * cuBLAS, and no shape has been measured yet to say where they are not.
     */
    static final boolean USE_CUBLAS = "cublas".equals(System.getProperty("tpk.lmhead.backend"));

    static void run(Tensor x, Tensor w, Tensor out, CudaStream stream) {
        if (USE_CUBLAS && CublasGemm.isAvailable()) {
            runCublas(x, w, out, stream);
            return;
        }
        long t = x.dim(0);
        long h = x.dim(1);
        long valid = w.dim(0);
        long s = out.dim(1);
        if (t == 0 || s == 0) {
            return;
        }
        CudaDevice device = out.cudaDevice();
        long xPtr = x.devicePointer();
        long wPtr = valid == 0 ? xPtr : w.devicePointer();
        Path path = path(x.dtype(), t, h, xPtr, wPtr);
        String name = "tpk_lm_head_" + path.name().toLowerCase(Locale.ROOT) + "_"
                + x.dtype().name().toLowerCase(Locale.ROOT) + "_" + out.dtype().name().toLowerCase(Locale.ROOT);
        CudaKernel kernel = device.modules().kernel("lm_head", name);
        KernelArgs args = KernelArgs.begin().ptr(out.devicePointer()).ptr(xPtr).ptr(wPtr)
                .i32(Math.toIntExact(t)).i32(Math.toIntExact(h)).i64(valid).i64(s);
        switch (path) {
            case DECODE -> {
                long blocks = Math.min((s + THREADS / 32 - 1) / (THREADS / 32),
                        (long) device.multiprocessors() * DECODE_BLOCKS_PER_SM);
                kernel.launch(stream, (int) blocks, THREADS, 0, args);
            }
            case MMA -> {
                kernel.allowDynamicSharedBytes(MMA_SHARED_BYTES);
                kernel.launch(stream, blocks(s, MMA_TILE), blocks(t, MMA_TILE), 1, THREADS, 1, 1, MMA_SHARED_BYTES, args);
            }
            case SIMT -> kernel.launch(stream, blocks(s, SIMT_TILE), blocks(t, SIMT_TILE), 1, THREADS, 1, 1, 0, args);
        }
    }

    /** cuBLAS for the valid columns, then the padding kernel for the −∞ columns. */
    static void runCublas(Tensor x, Tensor w, Tensor out, CudaStream stream) {
        CublasGemm.multiplyNT(x, w, out, stream);
        long t = x.dim(0);
        long valid = w.dim(0);
        long s = out.dim(1);
        if (t > 0 && s > valid) {
            CudaDevice device = out.cudaDevice();
            String name = out.dtype() == DType.F32 ? "tpk_lm_head_pad_f32" : "tpk_lm_head_pad_bf16";
            long blocks = Math.min((t * (s - valid) + THREADS - 1) / THREADS, (long) device.multiprocessors() * 8);
            device.modules().kernel("lm_head", name).launch(stream, (int) blocks, THREADS, 0,
                    KernelArgs.begin().ptr(out.devicePointer()).i64(t).i64(valid).i64(s));
        }
    }

    private static int blocks(long n, int tile) {
        return Math.toIntExact((n + tile - 1) / tile);
    }
}
