// lm_head.cu: the vocab-padded LM-head GEMM (SEMANTICS.md section 4).
//
//   out[t, j] = sum_k X[t, k] * W[j, k]     for j < valid          (f32 accumulation)
//   out[t, j] = -inf                        for valid <= j < S
//
// X [T, H] and W [valid, H] are row-major with k contiguous (PyTorch's weight layout); out is [T, S] row-major,
// f32 or bf16. Padding rows of W are virtual: no kernel reads past row valid - 1, and blocks whose columns are
// all padding write -inf and return without touching W.
//
// Three kernels, chosen by the host (LmHeadCuda.java) by shape and dtype:
//   tpk_lm_head_mma_*     prefill, F16/BF16, H % 8 == 0: tensor cores (mma.sync m16n8k16, f32 accumulators),
//                         128x128x32 block tiles, 8 warps of 64x32, a 3-stage cp.async pipeline into padded
//                         shared memory (row stride 40 halves = 80 bytes: ldmatrix rows fall in distinct banks).
//   tpk_lm_head_decode_*  decode, T <= 16: the GEMM is bound by reading W once. One warp per vocab row, lanes
//                         stride the row in 16-byte loads (4 in flight each), every token's dot product kept
//                         in registers, one warp reduction per token at the end.
//   tpk_lm_head_simt_*    everything else (F32, odd H): 64x64x16 shared-memory tiles, 4x4 outputs per thread.
// Hopper wgmma with TMA is the next step for prefill.
//
// Versions: v1 (this); not yet timed on a GPU.

#include "tpk_common.cuh"

// ---- output stores

__device__ __forceinline__ void tpk_store(float* out, long long i, float v) { out[i] = v; }
__device__ __forceinline__ void tpk_store(u16* out, long long i, float v) { out[i] = tpk_f32_to_bf16(v); }

template <typename Out>
__device__ __forceinline__ void store_logit(Out* out, int T, long long S, long long valid, long long t, long long j,
                                            float v) {
    if (t < T && j < S) tpk_store(out, t * S + j, j < valid ? v : tpk_neg_inf());
}

template <typename Out>
__device__ void fill_padding_block(Out* out, int T, long long S, int m0, int bm, long long n0, int bn) {
    for (int i = threadIdx.x; i < bm * bn; i += blockDim.x) {
        long long t = m0 + i / bn;
        long long j = n0 + i % bn;
        if (t < T && j < S) tpk_store(out, t * S + j, tpk_neg_inf());
    }
}

// =====================================================================================================
// Tensor-core prefill kernel (sm_80+): F16 or BF16 inputs.
// =====================================================================================================

namespace mma_tile {
constexpr int BM = 128;          // tokens per block
constexpr int BN = 128;          // vocab columns per block
constexpr int BK = 32;           // k per stage
constexpr int STAGES = 3;
constexpr int LDS = BK + 8;      // padded shared row: 80 bytes
constexpr int THREADS = 256;     // 8 warps: 2 (m) x 4 (n), each 64 x 32
}  // namespace mma_tile

__device__ __forceinline__ u32 smem_addr(const void* p) {
    return static_cast<u32>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void cp_async16(u32 dst, const void* src, bool pred) {
    // src-size 0 zero-fills the 16 bytes without reading global memory.
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(dst), "l"(src), "r"(pred ? 16 : 0));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;"); }
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;" ::"n"(N)); }

__device__ __forceinline__ void ldmatrix_x4(u32 (&r)[4], u32 addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr));
}

template <bool BF16>
__device__ __forceinline__ void mma_16816(float (&d)[4], const u32 (&a)[4], u32 b0, u32 b1) {
    if (BF16) {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                     "{%0,%1,%2,%3};"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    } else {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                     "{%0,%1,%2,%3};"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
}

template <bool BF16, typename Out>
__device__ __forceinline__ void lm_head_mma(Out* __restrict__ out, const u16* __restrict__ X,
                                            const u16* __restrict__ W, int T, int H, long long valid, long long S) {
    using namespace mma_tile;
    extern __shared__ __align__(16) unsigned char smem_raw[];
    u16* As = reinterpret_cast<u16*>(smem_raw);
    u16* Bs = As + STAGES * BM * LDS;

    const int tid = threadIdx.x;
    const int warp = tid >> 5;
    const int lane = tid & 31;
    const int m0 = blockIdx.y * BM;
    const long long n0 = (long long)blockIdx.x * BN;
    if (n0 >= valid) {  // all padding: -inf, and W is never touched
        fill_padding_block(out, T, S, m0, BM, n0, BN);
        return;
    }
    const int wm = (warp >> 2) * 64;  // warp's first row within the block
    const int wn = (warp & 3) * 32;   // warp's first column within the block
    const int k_tiles = (H + BK - 1) / BK;

    // Each thread copies 2 chunks of 16 bytes of A and 2 of B per stage: 128 rows x 4 chunks each.
    auto load_stage = [&](int stage, int kt) {
        const int k0 = kt * BK;
#pragma unroll
        for (int i = 0; i < 2; i++) {
            const int c = tid + i * THREADS;
            const int row = c >> 2;
            const int kc = (c & 3) * 8;
            const bool kin = k0 + kc < H;
            const bool ain = kin && m0 + row < T;
            const bool bin = kin && n0 + row < valid;
            const u16* asrc = ain ? X + (long long)(m0 + row) * H + k0 + kc : X;
            const u16* bsrc = bin ? W + (n0 + row) * (long long)H + k0 + kc : W;
            cp_async16(smem_addr(As + (stage * BM + row) * LDS + kc), asrc, ain);
            cp_async16(smem_addr(Bs + (stage * BN + row) * LDS + kc), bsrc, bin);
        }
    };

    float acc[4][4][4];
#pragma unroll
    for (int mi = 0; mi < 4; mi++)
#pragma unroll
        for (int ni = 0; ni < 4; ni++)
#pragma unroll
            for (int q = 0; q < 4; q++) acc[mi][ni][q] = 0.f;

#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < k_tiles) load_stage(s, s);
        cp_async_commit();
    }

    for (int kt = 0; kt < k_tiles; kt++) {
        cp_async_wait<STAGES - 2>();
        __syncthreads();  // stage kt landed for everyone; stage kt-1 is free to overwrite
        const int next = kt + STAGES - 1;
        if (next < k_tiles) load_stage(next % STAGES, next);
        cp_async_commit();

        const int stage = kt % STAGES;
        const u16* a_tile = As + stage * BM * LDS;
        const u16* b_tile = Bs + stage * BN * LDS;
#pragma unroll
        for (int kk = 0; kk < BK; kk += 16) {
            u32 a[4][4];
#pragma unroll
            for (int mi = 0; mi < 4; mi++) {
                const int r = wm + mi * 16 + (lane & 15);
                ldmatrix_x4(a[mi], smem_addr(a_tile + r * LDS + kk + (lane >> 4) * 8));
            }
            u32 b[4][2];
#pragma unroll
            for (int np = 0; np < 2; np++) {
                u32 r4[4];
                const int r = wn + (np * 2 + (lane >> 4)) * 8 + (lane & 7);
                ldmatrix_x4(r4, smem_addr(b_tile + r * LDS + kk + ((lane >> 3) & 1) * 8));
                b[np * 2][0] = r4[0];
                b[np * 2][1] = r4[1];
                b[np * 2 + 1][0] = r4[2];
                b[np * 2 + 1][1] = r4[3];
            }
#pragma unroll
            for (int mi = 0; mi < 4; mi++)
#pragma unroll
                for (int ni = 0; ni < 4; ni++) mma_16816<BF16>(acc[mi][ni], a[mi], b[ni][0], b[ni][1]);
        }
    }
    cp_async_wait<0>();

    // Accumulator layout of m16n8: d0,d1 at (row lane/4, cols 2*(lane%4) + 0/1), d2,d3 eight rows below.
#pragma unroll
    for (int mi = 0; mi < 4; mi++) {
#pragma unroll
        for (int ni = 0; ni < 4; ni++) {
            const long long t = m0 + wm + mi * 16 + (lane >> 2);
            const long long j = n0 + wn + ni * 8 + (lane & 3) * 2;
            store_logit(out, T, S, valid, t, j, acc[mi][ni][0]);
            store_logit(out, T, S, valid, t, j + 1, acc[mi][ni][1]);
            store_logit(out, T, S, valid, t + 8, j, acc[mi][ni][2]);
            store_logit(out, T, S, valid, t + 8, j + 1, acc[mi][ni][3]);
        }
    }
}

#define TPK_LM_HEAD_MMA(NAME, BF16, OUT)                                                                       \
    extern "C" __global__ void __launch_bounds__(mma_tile::THREADS)                                           \
    NAME(OUT* out, const u16* X, const u16* W, int T, int H, long long valid, long long S) {                  \
        lm_head_mma<BF16, OUT>(out, X, W, T, H, valid, S);                                                    \
    }

TPK_LM_HEAD_MMA(tpk_lm_head_mma_bf16_f32, true, float)
TPK_LM_HEAD_MMA(tpk_lm_head_mma_bf16_bf16, true, u16)
TPK_LM_HEAD_MMA(tpk_lm_head_mma_f16_f32, false, float)
TPK_LM_HEAD_MMA(tpk_lm_head_mma_f16_bf16, false, u16)

// =====================================================================================================
// Decode kernel: T <= 16 tokens, W streamed once.
// =====================================================================================================

constexpr int DECODE_MAX_T = 16;
constexpr int DECODE_UNROLL = 4;

// A 16-byte chunk of E as floats: 8 halves or 4 floats.
template <typename E>
struct Chunk;
template <>
struct Chunk<TpkF32> {
    static constexpr int N = 4;
    static __device__ __forceinline__ void unpack(const tpk_u32x4& v, float (&f)[8]) {
        f[0] = __uint_as_float(v.x); f[1] = __uint_as_float(v.y); f[2] = __uint_as_float(v.z); f[3] = __uint_as_float(v.w);
    }
};
template <typename H>
struct HalfChunk {
    static constexpr int N = 8;
    static __device__ __forceinline__ void unpack(const tpk_u32x4& v, float (&f)[8]) {
        const u32 w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
        for (int i = 0; i < 4; i++) {
            f[2 * i] = H::to_f32((u16)(w[i] & 0xffff));
            f[2 * i + 1] = H::to_f32((u16)(w[i] >> 16));
        }
    }
};
template <>
struct Chunk<TpkF16> : HalfChunk<TpkF16> {};
template <>
struct Chunk<TpkBF16> : HalfChunk<TpkBF16> {};

template <typename E, typename Out>
__device__ __forceinline__ void lm_head_decode(Out* __restrict__ out, const typename E::T* __restrict__ X,
                                               const typename E::T* __restrict__ W, int T, int H, long long valid,
                                               long long S) {
    constexpr int N = Chunk<E>::N;
    const int lane = threadIdx.x & 31;
    const long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
    const int chunks = H / N;  // the host guarantees H % N == 0 and 16-byte aligned rows
    for (long long j = warp; j < S; j += warps) {
        float acc[DECODE_MAX_T];
#pragma unroll
        for (int t = 0; t < DECODE_MAX_T; t++) acc[t] = 0.f;
        if (j < valid) {
            const typename E::T* wrow = W + j * (long long)H;
            for (int c0 = lane; c0 < chunks; c0 += 32 * DECODE_UNROLL) {
                tpk_u32x4 wv[DECODE_UNROLL];
#pragma unroll
                for (int u = 0; u < DECODE_UNROLL; u++) {
                    const int c = c0 + u * 32;
                    if (c < chunks) wv[u] = tpk_ldg16(wrow + (long long)c * N);
                }
#pragma unroll
                for (int u = 0; u < DECODE_UNROLL; u++) {
                    const int c = c0 + u * 32;
                    if (c >= chunks) continue;
                    float wf[8];
                    Chunk<E>::unpack(wv[u], wf);
#pragma unroll
                    for (int t = 0; t < DECODE_MAX_T; t++) {
                        if (t < T) {
                            float xf[8];
                            Chunk<E>::unpack(tpk_ldg16(X + (long long)t * H + (long long)c * N), xf);
#pragma unroll
                            for (int e = 0; e < N; e++) acc[t] = fmaf(xf[e], wf[e], acc[t]);
                        }
                    }
                }
            }
        }
        // Every lane ends with every token's full sum; lane t writes token t.
        float mine = 0.f;
#pragma unroll
        for (int t = 0; t < DECODE_MAX_T; t++) {
            float v = acc[t];
#pragma unroll
            for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
            if (t == lane) mine = v;
        }
        if (lane < T) tpk_store(out, (long long)lane * S + j, j < valid ? mine : tpk_neg_inf());
    }
}

#define TPK_LM_HEAD_DECODE(NAME, E, OUT)                                                                       \
    extern "C" __global__ void __launch_bounds__(256)                                                         \
    NAME(OUT* out, const E::T* X, const E::T* W, int T, int H, long long valid, long long S) {                \
        lm_head_decode<E, OUT>(out, X, W, T, H, valid, S);                                                    \
    }

TPK_LM_HEAD_DECODE(tpk_lm_head_decode_bf16_f32, TpkBF16, float)
TPK_LM_HEAD_DECODE(tpk_lm_head_decode_bf16_bf16, TpkBF16, u16)
TPK_LM_HEAD_DECODE(tpk_lm_head_decode_f16_f32, TpkF16, float)
TPK_LM_HEAD_DECODE(tpk_lm_head_decode_f16_bf16, TpkF16, u16)
TPK_LM_HEAD_DECODE(tpk_lm_head_decode_f32_f32, TpkF32, float)
TPK_LM_HEAD_DECODE(tpk_lm_head_decode_f32_bf16, TpkF32, u16)

// =====================================================================================================
// SIMT kernel: any dtype, any H. 64x64 tiles, k in steps of 16, 4x4 outputs per thread.
// =====================================================================================================

namespace simt_tile {
constexpr int BM = 64;
constexpr int BN = 64;
constexpr int BK = 16;
constexpr int THREADS = 256;
}  // namespace simt_tile

template <typename E, typename Out>
__device__ __forceinline__ void lm_head_simt(Out* __restrict__ out, const typename E::T* __restrict__ X,
                                             const typename E::T* __restrict__ W, int T, int H, long long valid,
                                             long long S) {
    using namespace simt_tile;
    __shared__ float As[BK][BM + 4];
    __shared__ float Bs[BK][BN + 4];
    const int tid = threadIdx.x;
    const int m0 = blockIdx.y * BM;
    const long long n0 = (long long)blockIdx.x * BN;
    if (n0 >= valid) {
        fill_padding_block(out, T, S, m0, BM, n0, BN);
        return;
    }
    const int tx = tid & 15;  // 4 columns each
    const int ty = tid >> 4;  // 4 rows each
    float acc[4][4] = {};
    for (int k0 = 0; k0 < H; k0 += BK) {
        // 64 x 16 elements of each operand, 4 per thread, stored k-major for broadcast reads.
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const int e = tid + i * THREADS;
            const int r = e / BK;
            const int k = e % BK;
            const bool kin = k0 + k < H;
            As[k][r] = kin && m0 + r < T ? E::to_f32(X[(long long)(m0 + r) * H + k0 + k]) : 0.f;
            Bs[k][r] = kin && n0 + r < valid ? E::to_f32(W[(n0 + r) * (long long)H + k0 + k]) : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; k++) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) {
                a[i] = As[k][ty * 4 + i];
                b[i] = Bs[k][tx * 4 + i];
            }
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int q = 0; q < 4; q++) acc[i][q] = fmaf(a[i], b[q], acc[i][q]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int q = 0; q < 4; q++) store_logit(out, T, S, valid, m0 + ty * 4 + i, n0 + tx * 4 + q, acc[i][q]);
}

#define TPK_LM_HEAD_SIMT(NAME, E, OUT)                                                                         \
    extern "C" __global__ void __launch_bounds__(simt_tile::THREADS, 2)                                        \
    NAME(OUT* out, const E::T* X, const E::T* W, int T, int H, long long valid, long long S) {                \
        lm_head_simt<E, OUT>(out, X, W, T, H, valid, S);                                                      \
    }

TPK_LM_HEAD_SIMT(tpk_lm_head_simt_bf16_f32, TpkBF16, float)
TPK_LM_HEAD_SIMT(tpk_lm_head_simt_bf16_bf16, TpkBF16, u16)
TPK_LM_HEAD_SIMT(tpk_lm_head_simt_f16_f32, TpkF16, float)
TPK_LM_HEAD_SIMT(tpk_lm_head_simt_f16_bf16, TpkF16, u16)
TPK_LM_HEAD_SIMT(tpk_lm_head_simt_f32_f32, TpkF32, float)
TPK_LM_HEAD_SIMT(tpk_lm_head_simt_f32_bf16, TpkF32, u16)

// =====================================================================================================
// Padding fill: out[t, j] = -inf for valid <= j < S, for GEMMs (cuBLAS) that write only the valid columns.
// =====================================================================================================

template <typename Out>
__device__ __forceinline__ void lm_head_pad(Out* out, long long T, long long valid, long long S) {
    const long long pad = S - valid;
    const long long n = T * pad;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        tpk_store(out, (i / pad) * S + valid + i % pad, tpk_neg_inf());
    }
}

extern "C" __global__ void __launch_bounds__(256) tpk_lm_head_pad_f32(float* out, long long T, long long valid, long long S) {
    lm_head_pad(out, T, valid, S);
}
extern "C" __global__ void __launch_bounds__(256) tpk_lm_head_pad_bf16(u16* out, long long T, long long valid, long long S) {
    lm_head_pad(out, T, valid, S);
}
