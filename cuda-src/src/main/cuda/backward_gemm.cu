// backward_gemm.cu: the GEMMs of the backward through frozen weights (docs/contract.md, the backward), where cuBLAS
// cannot serve them: cuBLAS absent, or operands of two dtypes (an F32 gradient against a BF16 weight, the usual case).
//
//   tpk_backward_gemm_<a>_<b>:  C[m, n] = alpha · Σ_k op(A)[m, k] · B[k, n]   (+ C[m, n] when accumulate)
//     op(A) = A, stored [M, K] rows lda apart (dx = dy·W, g = dy·B, dx += s·g·A, dx_r = dz[:, :valid]·W_r), or
//     op(A) = Aᵀ, A stored [K, M] rows lda apart (dA = s·gᵀ·x, dB = dyᵀ·xs); B stored [K, N] rows ldb apart;
//     C F32 [M, N] rows ldc apart. <a> and <b>: A's and B's element types, each F32, F16 or BF16.
//
// Gradients are F32 and partial sums over ranks: every product is widened to f32 and accumulated in f32 (one fma
// chain per output over k ascending), alpha applied once at the end, then added to C or stored. With K = 0 the
// output is alpha · 0 (a shard with no valid rows contributes zeros).
//
// Versions: v1 (this) shared-memory tiles, 64 x 64 x 16, 4 x 4 outputs per thread; not yet timed on a GPU.

// tpk-kernels: tpk_backward_gemm_{f32,f16,bf16}_{f32,f16,bf16}

#include "tpk_common.cuh"

namespace backward_tile {
constexpr int BM = TPK_BACKWARD_GEMM_BM;
constexpr int BN = TPK_BACKWARD_GEMM_BN;
constexpr int BK = 16;
constexpr int THREADS = TPK_BACKWARD_GEMM_THREADS;
}  // namespace backward_tile

template <typename EA, typename EB>
__device__ __forceinline__ void backward_gemm(float* c, const typename EA::T* __restrict__ a,
                                              const typename EB::T* __restrict__ b, int M, int N, int K,
                                              long long lda, long long ldb, long long ldc, int trans_a, float alpha,
                                              int accumulate) {
    using namespace backward_tile;
    __shared__ float As[BK][BM + 4];  // op(A)'s tile, k-major: a thread reads its 4 rows at one k together
    __shared__ float Bs[BK][BN + 4];
    const int tid = threadIdx.x;
    const int m0 = blockIdx.x * BM;  // rows (tokens, most often) on x, whose grid has no 65535 limit
    const int n0 = blockIdx.y * BN;
    const int tx = tid & 15;  // 4 columns each
    const int ty = tid >> 4;  // 4 rows each
    float acc[4][4] = {};
    for (int k0 = 0; k0 < K; k0 += BK) {
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const int e = tid + i * THREADS;
            // Neighbouring threads read neighbouring elements of memory: along k for A, along m for Aᵀ.
            const int ar = trans_a ? e % BM : e / BK;
            const int ak = trans_a ? e / BM : e % BK;
            const int m = m0 + ar;
            const int ka = k0 + ak;
            As[ak][ar] = m < M && ka < K
                    ? EA::to_f32(trans_a ? a[(long long)ka * lda + m] : a[(long long)m * lda + ka]) : 0.f;
            const int bk = e / BN;
            const int bn = e % BN;
            const int kb = k0 + bk;
            Bs[bk][bn] = kb < K && n0 + bn < N ? EB::to_f32(b[(long long)kb * ldb + n0 + bn]) : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; k++) {
            float av[4], bv[4];
#pragma unroll
            for (int i = 0; i < 4; i++) {
                av[i] = As[k][ty * 4 + i];
                bv[i] = Bs[k][tx * 4 + i];
            }
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int q = 0; q < 4; q++) acc[i][q] = fmaf(av[i], bv[q], acc[i][q]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int m = m0 + ty * 4 + i;
#pragma unroll
        for (int q = 0; q < 4; q++) {
            const int n = n0 + tx * 4 + q;
            if (m < M && n < N) {
                float* out = c + (long long)m * ldc + n;
                const float v = alpha * acc[i][q];
                *out = accumulate ? *out + v : v;
            }
        }
    }
}

#define TPK_BACKWARD_GEMM(SUFFIX, EA, EB)                                                                      \
    extern "C" __global__ void __launch_bounds__(TPK_BACKWARD_GEMM_THREADS)                                   \
    tpk_backward_gemm_##SUFFIX(float* c, const EA::T* a, const EB::T* b, int M, int N, int K, long long lda,   \
                               long long ldb, long long ldc, int trans_a, float alpha, int accumulate) {       \
        backward_gemm<EA, EB>(c, a, b, M, N, K, lda, ldb, ldc, trans_a, alpha, accumulate);                   \
    }

TPK_BACKWARD_GEMM(f32_f32, TpkF32, TpkF32)
TPK_BACKWARD_GEMM(f32_f16, TpkF32, TpkF16)
TPK_BACKWARD_GEMM(f32_bf16, TpkF32, TpkBF16)
TPK_BACKWARD_GEMM(f16_f32, TpkF16, TpkF32)
TPK_BACKWARD_GEMM(f16_f16, TpkF16, TpkF16)
TPK_BACKWARD_GEMM(f16_bf16, TpkF16, TpkBF16)
TPK_BACKWARD_GEMM(bf16_f32, TpkBF16, TpkF32)
TPK_BACKWARD_GEMM(bf16_f16, TpkBF16, TpkF16)
TPK_BACKWARD_GEMM(bf16_bf16, TpkBF16, TpkBF16)
