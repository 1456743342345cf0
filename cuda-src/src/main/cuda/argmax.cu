// argmax.cu: one rank's part of the vocab-parallel argmax (docs/contract.md section 5).
//
//   for each token t:  (values[t], ids[t]) = max over j < valid of (logits[t, j], start + j)
//
// The order is docs/contract.md's, the same rule VocabArgmax.beats applies when ranks are combined: the larger
// value wins, equal values go to the smaller id, and equal is IEEE's (+0 == -0: a tie, not +0 above -0). A
// NaN is above every number (so a NaN logit is surfaced as the argmax, never hidden) and NaNs tie among
// themselves (the smallest id). Padding columns (j >= valid) never take part; with valid = 0 the result is
// (-inf, LLONG_MAX), which loses to any real column.
//
// One block of 256 threads per token: each thread scans a strided share of the row, then warp shuffles and
// one shared-memory step reduce the 256 candidates. Versions: v1 (this); not yet timed on a GPU.

// tpk-kernels: tpk_argmax_{f32,bf16}

#include "tpk_common.cuh"

__device__ __forceinline__ bool tpk_is_nan(float v) { return (__float_as_uint(v) & 0x7fffffffu) > 0x7f800000u; }

// Whether (v1, i1) beats (v2, i2): NaN above every number, then the larger value, ties (+0 == -0 included,
// NaN == NaN) to the smaller id.
__device__ __forceinline__ bool tpk_beats(float v1, long long i1, float v2, long long i2) {
    const bool n1 = tpk_is_nan(v1), n2 = tpk_is_nan(v2);
    if (n1 || n2) return n1 != n2 ? n1 : i1 < i2;
    if (v1 != v2) return v1 > v2;
    return i1 < i2;
}

template <typename E>
__device__ __forceinline__ void argmax_rows(float* values, long long* ids, const typename E::T* logits, long long S,
                                            long long valid, long long start) {
    __shared__ float best_v[TPK_ARGMAX_THREADS / 32];
    __shared__ long long best_i[TPK_ARGMAX_THREADS / 32];
    const long long t = blockIdx.x;
    const typename E::T* row = logits + t * S;
    float v = tpk_neg_inf();
    long long id = 0x7fffffffffffffffLL;
    for (long long j = threadIdx.x; j < valid; j += blockDim.x) {
        const float x = E::to_f32(row[j]);
        if (tpk_beats(x, start + j, v, id)) {
            v = x;
            id = start + j;
        }
    }
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) {
        const float ov = __shfl_xor_sync(0xffffffffu, v, off);
        const long long oi = __shfl_xor_sync(0xffffffffu, id, off);
        if (tpk_beats(ov, oi, v, id)) {
            v = ov;
            id = oi;
        }
    }
    const int warp = threadIdx.x >> 5;
    if ((threadIdx.x & 31) == 0) {
        best_v[warp] = v;
        best_i[warp] = id;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int w = 1; w < (int)(blockDim.x >> 5); w++) {
            if (tpk_beats(best_v[w], best_i[w], v, id)) {
                v = best_v[w];
                id = best_i[w];
            }
        }
        values[t] = v;
        ids[t] = id;
    }
}

extern "C" __global__ void __launch_bounds__(TPK_ARGMAX_THREADS)
tpk_argmax_f32(float* values, long long* ids, const float* logits, long long S, long long valid, long long start) {
    argmax_rows<TpkF32>(values, ids, logits, S, valid, start);
}

extern "C" __global__ void __launch_bounds__(TPK_ARGMAX_THREADS)
tpk_argmax_bf16(float* values, long long* ids, const u16* logits, long long S, long long valid, long long start) {
    argmax_rows<TpkBF16>(values, ids, logits, S, valid, start);
}
