// gemm.cu: the GEMM kernels of gemm.cuh, instantiated for every input/output dtype pair:
//   tpk_gemm_{mma,mma_decode,mma_decode_t,decode,simt}_<in>_<out>(out, X, W, XA, B, bias, col_scale, T, K, R,
//                                                                valid, S, alpha)
// used by the LM head (R = 0, no bias or column scale, alpha 1, -inf padding columns valid..S-1) and by the
// fused LoRA linear: its shrink step (W = A, alpha = s, out in the input dtype) and its fused base + expand
// + column scale + bias step (XA from the shrink, valid = S = N). See gemm.cuh for the math and the bodies.
//
// Versions: v1 (this): mma.sync 128x128x32 3-stage, warp-per-column decode, SIMT fallback; not yet timed on
// a GPU. Next: Hopper wgmma with TMA for prefill.

// tpk-kernels: tpk_gemm_{simt,decode}_{f32,bf16,f16}_{f32,bf16,f16}
// tpk-kernels: tpk_gemm_{mma,mma_decode,mma_decode_t}_{bf16,f16}_{f32,bf16,f16}
// tpk-kernels: tpk_pad_columns_{f32,bf16}

#include "gemm.cuh"

TPK_GEMM_FAMILY(tpk_gemm)

// Padding fill: out[t, j] = -inf for valid <= j < S, after a GEMM (cuBLAS) that wrote only the valid columns.
template <typename O>
__device__ __forceinline__ void pad_columns(typename O::T* out, long long T, long long valid, long long S) {
    const long long pad = S - valid;
    const long long n = T * pad;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        out[(i / pad) * S + valid + i % pad] = O::from_f32(tpk_neg_inf());
    }
}

extern "C" __global__ void __launch_bounds__(TPK_GEMM_PAD_THREADS)
tpk_pad_columns_f32(float* out, long long T, long long valid, long long S) {
    pad_columns<TpkF32>(out, T, valid, S);
}
extern "C" __global__ void __launch_bounds__(TPK_GEMM_PAD_THREADS)
tpk_pad_columns_bf16(u16* out, long long T, long long valid, long long S) {
    pad_columns<TpkBF16>(out, T, valid, S);
}
