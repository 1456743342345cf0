// gemm.cuh: the GEMM machinery of gemm.cu (the LM head's kernels, and the fused LoRA linear's shrink and
// base + expand steps) and of lora_decode.cu (the LoRA linear for decode in one launch); the Hopper kernels
// (gemm_sm90.cuh) share its epilogue.
//
//   out[t, j] = c[j] * alpha * (sum_k X[t, k] * W[j, k]  +  sum_r XA[t, r] * B[j, r])  +  bias[j]   for j < valid
//   out[t, j] = -inf                                                                       for valid <= j < S
//
// in f32 accumulators, written once; c = col_scale (F32, DoRA's per-column scale), or 1 where it is null,
// applied in f32 before the bias and the one rounding to the output type. The second segment is LoRA's expand
// step (XA = s * x * A^T, already scaled and kept in the input dtype: the shrink step before it, or
// lora_decode.cu's shrink blocks); the LM head has none (R = 0), no bias and no column scale, and its padding
// columns are the -inf ones. Plain linear layers are valid = S = N. X [T, K], W [valid, K], XA [T, R], B [valid, R] are row-major with the reduction dimension
// contiguous; out [T, S] is f32, bf16 or f16. LoRA's shrink step is this GEMM too (W = A, alpha = s, out in
// the input dtype).
//
// Four kernel bodies, chosen by the host by shape and dtype:
//   gemm_mma     F16/BF16, K % 8 == 0, R % 8 == 0: tensor cores (mma.sync m16n8k16, f32 accumulators),
//                128x128x32 block tiles, 8 warps of 64x32, a 3-stage cp.async pipeline into padded shared
//                memory (row stride 40 halves = 80 bytes, so ldmatrix rows fall in distinct banks). The LoRA
//                segment is R/32 more k-tiles through the same pipeline and accumulators.
//   gemm_mma_decode  F16/BF16, T <= 16, K % 8 == 0, R % 8 == 0: bound by reading W once, so W goes from
//                global memory straight into mma fragments (16-byte loads, the next step's loads in flight
//                while this step multiplies) and X, the small operand, is the mma's B side. A block of 4 warps
//                owns 64 output columns; each warp reduces a quarter of K (split-K), and the 4 partial sums
//                meet in shared memory before the one write. X is read once per block, 1/4 of W's traffic.
//                Its transposed form computes narrow products with many rows (LoRA's shrink at prefill).
//   gemm_decode  F32, T <= 16, 16-byte rows: one warp per output column j, lanes stride the row in 16-byte
//                loads (4 in flight each), every token's sum in registers, one warp reduction per token.
//   gemm_simt    anything else (F32, odd sizes): 64x64x16 shared-memory tiles, 4x4 outputs per thread.
// Blocks whose columns are all padding write -inf and return without touching W.

#pragma once
#include "tpk_common.cuh"

// ---- the operands and epilogue, shared by all three bodies

// E is the input element type, O the output's (TpkF32, TpkF16 or TpkBF16 of tpk_common.cuh).
template <typename E, typename O>
struct GemmArgs {
    typename O::T* out;
    const typename E::T* X;     // [T, K]
    const typename E::T* W;     // [valid, K]
    const typename E::T* XA;    // [T, R] or null
    const typename E::T* B;     // [valid, R] or null
    const typename E::T* bias;  // [valid] or null
    const float* col_scale;     // [valid] or null
    int T, K, R;
    long long valid, S;
    float alpha;
};

template <typename E, typename O>
__device__ __forceinline__ void gemm_store(const GemmArgs<E, O>& a, long long t, long long j, float acc) {
    if (t < a.T && j < a.S) {
        float v = tpk_neg_inf();
        if (j < a.valid) {
            const float bias = a.bias ? E::to_f32(a.bias[j]) : 0.f;
            // Spelled out as FMAs: written as alpha * acc + bias beside the scaled form, the compiler shares
            // the product and stops fusing the unscaled sum, which then rounds twice. So no scale gives the one
            // FMA it always was, bit for bit. The scale's index is 32-bit (the host passes one only for
            // N < 2^31): a 64-bit index made ptxas spill the F32 decode body on sm_80.
            v = a.col_scale ? fmaf(a.alpha * acc, a.col_scale[(int)j], bias) : fmaf(a.alpha, acc, bias);
        }
        a.out[t * a.S + j] = O::from_f32(v);
    }
}

// -inf into the bm x bn tile at (m0, n0), clipped to out, by `threads` threads of which this is `thread`.
template <typename E, typename O>
__device__ void gemm_fill_padding(const GemmArgs<E, O>& a, int m0, int bm, long long n0, int bn, int thread,
                                  int threads) {
    for (int i = thread; i < bm * bn; i += threads) {
        const long long t = m0 + i / bn;
        const long long j = n0 + i % bn;
        if (t < a.T && j < a.S) a.out[t * a.S + j] = O::from_f32(tpk_neg_inf());
    }
}

// ... by the whole block.
template <typename E, typename O>
__device__ void gemm_fill_padding(const GemmArgs<E, O>& a, int m0, int bm, long long n0, int bn) {
    gemm_fill_padding(a, m0, bm, n0, bn, threadIdx.x, blockDim.x);
}

// =====================================================================================================
// Tensor cores (sm_80+): F16 or BF16.
// =====================================================================================================

namespace mma_tile {
constexpr int BM = TPK_GEMM_MMA_BM;            // tokens per block
constexpr int BN = TPK_GEMM_MMA_BN;            // output columns per block
constexpr int BK = TPK_GEMM_MMA_BK;            // k per stage
constexpr int STAGES = TPK_GEMM_MMA_STAGES;
constexpr int LDS = TPK_GEMM_MMA_LDS;          // padded shared row: 80 bytes
constexpr int THREADS = TPK_GEMM_MMA_THREADS;  // 8 warps: 2 (m) x 4 (n), each 64 x 32
// The layout below (As, then Bs) is what the host's dynamic shared memory must hold.
static_assert(STAGES * (BM + BN) * LDS * 2 == TPK_GEMM_MMA_SMEM_BYTES, "the stages' X and W tiles");
}  // namespace mma_tile

// acc = X[m0 .. m0+BM-1, :]·W[n0 .. n0+BN-1, :]ᵀ (+ XA·B[n0 ..]ᵀ, LoRA's segment) by the block, in the m16n8
// fragments of its warps (warp w owns rows wm = (w/4)·64 .. +63 and columns wn = (w%4)·32 .. +31: acc[mi][ni][q] is
// row wm + 16mi + lane/4 + 8(q/2), column wn + 8ni + 2(lane%4) + q%2). As and Bs are the stages' tiles in dynamic
// shared memory. Rows past T and columns past valid read zeros. Ends with every cp.async retired, but without a
// barrier: a caller that refills As or Bs first synchronises the block.
template <typename E, typename O>
__device__ __forceinline__ void gemm_mma_mainloop(const GemmArgs<E, O>& g, int m0, long long n0, u16* As, u16* Bs,
                                                  float (&acc)[4][4][4]) {
    using namespace mma_tile;
    constexpr bool BF16 = sizeof(typename E::T) == 2 && E::IS_BF16;
    const int tid = threadIdx.x;
    const int warp = tid >> 5;
    const int lane = tid & 31;
    const int wm = (warp >> 2) * 64;
    const int wn = (warp & 3) * 32;
    const int tiles1 = (g.K + BK - 1) / BK;              // the base product's k-tiles
    const int tiles = tiles1 + (g.R + BK - 1) / BK;      // then LoRA's, through the same pipeline

    // Each thread copies 2 chunks of 16 bytes of each operand per stage: 128 rows x 4 chunks.
    auto load_stage = [&](int stage, int kt) {
        const bool lora = kt >= tiles1;
        const int k0 = (lora ? kt - tiles1 : kt) * BK;
        const int kmax = lora ? g.R : g.K;
        const u16* xs = reinterpret_cast<const u16*>(lora ? g.XA : g.X);
        const u16* ws = reinterpret_cast<const u16*>(lora ? g.B : g.W);
#pragma unroll
        for (int i = 0; i < 2; i++) {
            const int c = tid + i * THREADS;
            const int row = c >> 2;
            const int kc = (c & 3) * 8;
            const bool kin = k0 + kc < kmax;
            const bool ain = kin && m0 + row < g.T;
            const bool bin = kin && n0 + row < g.valid;
            const u16* asrc = ain ? xs + (long long)(m0 + row) * kmax + k0 + kc : xs;
            const u16* bsrc = bin ? ws + (n0 + row) * (long long)kmax + k0 + kc : ws;
            cp_async16(smem_addr(As + (stage * BM + row) * LDS + kc), asrc, ain);
            cp_async16(smem_addr(Bs + (stage * BN + row) * LDS + kc), bsrc, bin);
        }
    };

#pragma unroll
    for (int mi = 0; mi < 4; mi++)
#pragma unroll
        for (int ni = 0; ni < 4; ni++)
#pragma unroll
            for (int q = 0; q < 4; q++) acc[mi][ni][q] = 0.f;

#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < tiles) load_stage(s, s);
        cp_async_commit();
    }

    for (int kt = 0; kt < tiles; kt++) {
        cp_async_wait<STAGES - 2>();
        __syncthreads();  // stage kt landed for everyone; stage kt-1 is free to overwrite
        const int next = kt + STAGES - 1;
        if (next < tiles) load_stage(next % STAGES, next);
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
}

template <typename E, typename O>
__device__ __forceinline__ void gemm_mma(const GemmArgs<E, O>& g) {
    using namespace mma_tile;
    u16* As = reinterpret_cast<u16*>(tpk_dynamic_smem());
    u16* Bs = As + STAGES * BM * LDS;
    const int warp = threadIdx.x >> 5;
    const int lane = threadIdx.x & 31;
    const int m0 = blockIdx.y * BM;
    const long long n0 = (long long)blockIdx.x * BN;
    if (n0 >= g.valid) {  // all padding: -inf, and W is never touched
        gemm_fill_padding(g, m0, BM, n0, BN);
        return;
    }
    const int wm = (warp >> 2) * 64;
    const int wn = (warp & 3) * 32;
    float acc[4][4][4];
    gemm_mma_mainloop(g, m0, n0, As, Bs, acc);

    // m16n8 accumulators: d0,d1 at (row lane/4, cols 2*(lane%4) + 0/1), d2,d3 eight rows below.
#pragma unroll
    for (int mi = 0; mi < 4; mi++) {
#pragma unroll
        for (int ni = 0; ni < 4; ni++) {
            const long long t = m0 + wm + mi * 16 + (lane >> 2);
            const long long j = n0 + wn + ni * 8 + (lane & 3) * 2;
            gemm_store(g, t, j, acc[mi][ni][0]);
            gemm_store(g, t, j + 1, acc[mi][ni][1]);
            gemm_store(g, t + 8, j, acc[mi][ni][2]);
            gemm_store(g, t + 8, j + 1, acc[mi][ni][3]);
        }
    }
}

// =====================================================================================================
// Decode: T <= 16 tokens; W (and B) streamed once.
// =====================================================================================================

constexpr int DECODE_MAX_T = TPK_GEMM_DECODE_MAX_T;
constexpr int DECODE_UNROLL = 4;

// A 16-byte chunk of E as floats: 8 halves or 4 floats.
template <typename E>
__device__ __forceinline__ void unpack16(const tpk_u32x4& v, float (&f)[8]) {
    if (sizeof(typename E::T) == 4) {
        f[0] = __uint_as_float(v.x); f[1] = __uint_as_float(v.y); f[2] = __uint_as_float(v.z); f[3] = __uint_as_float(v.w);
    } else {
        const u32 w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
        for (int i = 0; i < 4; i++) {
            f[2 * i] = E::to_f32((typename E::T)(w[i] & 0xffff));
            f[2 * i + 1] = E::to_f32((typename E::T)(w[i] >> 16));
        }
    }
}

// acc[t] += dot(x[t, :], w[:]) over one row segment of `len` elements (len * sizeof(T) % 16 == 0).
template <typename E>
__device__ __forceinline__ void decode_segment(float (&acc)[DECODE_MAX_T], const typename E::T* __restrict__ x,
                                               const typename E::T* __restrict__ wrow, int T, int len, int lane) {
    constexpr int N = 16 / sizeof(typename E::T);
    const int chunks = len / N;
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
            unpack16<E>(wv[u], wf);
#pragma unroll
            for (int t = 0; t < DECODE_MAX_T; t++) {
                if (t < T) {
                    float xf[8];
                    unpack16<E>(tpk_ldg16(x + (long long)t * len + (long long)c * N), xf);
#pragma unroll
                    for (int e = 0; e < N; e++) acc[t] = fmaf(xf[e], wf[e], acc[t]);
                }
            }
        }
    }
}

template <typename E, typename O>
__device__ __forceinline__ void gemm_decode(const GemmArgs<E, O>& g) {
    const int lane = threadIdx.x & 31;
    const long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
    for (long long j = warp; j < g.S; j += warps) {
        float acc[DECODE_MAX_T];
#pragma unroll
        for (int t = 0; t < DECODE_MAX_T; t++) acc[t] = 0.f;
        if (j < g.valid) {
            decode_segment<E>(acc, g.X, g.W + j * (long long)g.K, g.T, g.K, lane);
            if (g.R > 0) decode_segment<E>(acc, g.XA, g.B + j * (long long)g.R, g.T, g.R, lane);
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
        if (lane < g.T) gemm_store(g, lane, j, mine);
    }
}

// =====================================================================================================
// Tensor-core decode: F16/BF16, T <= 16; W (and B) streamed once, straight into mma fragments.
// =====================================================================================================

namespace mma_decode {
constexpr int WARPS = TPK_GEMM_MMA_DECODE_WARPS;  // split-K over the warps of a block
constexpr int THREADS = TPK_GEMM_MMA_DECODE_THREADS;
constexpr int COLS = TPK_GEMM_MMA_DECODE_COLS;    // output columns per block: 4 m16 tiles, each warp all four
constexpr int MT = COLS / 16;
constexpr int KSTEP = TPK_GEMM_MMA_DECODE_KSTEP;  // k per step: one 16-byte load per lane and row
}  // namespace mma_decode

// The sum over k is order-free, so the k of a 32-wide step may be dealt to fragment slots in any order as
// long as A and B agree. Lane (g = lane/4, c = lane%4) loads 8 consecutive k, 8c..8c+7, of W rows g and
// g+8 and of X row (token) g; in half-step h its 32-bit words 2h and 2h+1 fill the fragment slots of
// k 2c,2c+1 and 2c+8,2c+9 (a0/a2 from row g, a1/a3 from row g+8, b0/b1 from the token). The two
// half-steps cover k 8c+4h..8c+4h+3 for every c: each k of the step exactly once.
struct DecodeLoads {
    tpk_u32x4 w[mma_decode::MT][2];  // [m tile][row g, row g+8]
    tpk_u32x4 x[2];                  // [n tile: tokens 0-7, 8-15]
};

__device__ __forceinline__ u32 word(const tpk_u32x4& v, int i) { return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w; }

// COHERENT: X comes through L2 (ld.global.cg) instead of the read-only path, for an X that this very launch
// wrote (lora_decode.cu's xa); the read-only path may serve stale lines for memory written during a launch.
template <bool COHERENT>
__device__ __forceinline__ void decode_load(DecodeLoads& l, const u16* const (&wrow)[mma_decode::MT][2],
                                            const u16* const (&xrow)[2], int k, int kend, int T) {
    using namespace mma_decode;
    const bool kin = k < kend;  // kend % 8 == 0: a 16-byte chunk is all in or all out
    const tpk_u32x4 zero = {0, 0, 0, 0};
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int h = 0; h < 2; h++) l.w[mt][h] = kin && wrow[mt][h] ? tpk_ldg16(wrow[mt][h] + k) : zero;
#pragma unroll
    for (int nt = 0; nt < 2; nt++) {
        const bool in = kin && xrow[nt] && (nt == 0 || T > 8);
        l.x[nt] = !in ? zero : COHERENT ? tpk_ldcg16(xrow[nt] + k) : tpk_ldg16(xrow[nt] + k);
    }
}

template <bool BF16>
__device__ __forceinline__ void decode_multiply(float (&acc)[mma_decode::MT][2][4], const DecodeLoads& l, int T) {
    using namespace mma_decode;
#pragma unroll
    for (int h = 0; h < 2; h++) {
#pragma unroll
        for (int mt = 0; mt < MT; mt++) {
            const u32 a[4] = {word(l.w[mt][0], 2 * h), word(l.w[mt][1], 2 * h), word(l.w[mt][0], 2 * h + 1),
                              word(l.w[mt][1], 2 * h + 1)};
            mma_16816<BF16>(acc[mt][0], a, word(l.x[0], 2 * h), word(l.x[0], 2 * h + 1));
            if (T > 8) mma_16816<BF16>(acc[mt][1], a, word(l.x[1], 2 * h), word(l.x[1], 2 * h + 1));
        }
    }
}

// acc += W[j0 .. j0+63, k0:k1] · X[:, k0:k1]^T over this warp's share of the steps: X [T, ld] and W [rows, ld]
// row-major (the base product: X, W with ld = K; LoRA's expand: XA, B with ld = R; a split of LoRA's shrink:
// x, A over one k-range). k0 is a multiple of KSTEP and k1 of 8 (or the row's end).
template <bool BF16, bool COHERENT_X = false>
__device__ __forceinline__ void decode_mma_segment(float (&acc)[mma_decode::MT][2][4], const u16* X, const u16* W,
                                                   int ld, int k0, int k1, int T, long long rows, long long j0,
                                                   int warp, int lane) {
    using namespace mma_decode;
    const int g = lane >> 2, c = lane & 3;
    const int steps = (k1 - k0 + KSTEP - 1) / KSTEP;
    const int share = (steps + WARPS - 1) / WARPS;
    const int first = warp * share;
    const int end = min(steps, first + share);
    if (first >= end) return;
    const u16* wrow[MT][2];
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const long long j = j0 + mt * 16 + g + 8 * h;
            wrow[mt][h] = j < rows ? W + j * ld : nullptr;
        }
    const u16* xrow[2] = {g < T ? X + (long long)g * ld : nullptr, g + 8 < T ? X + (long long)(g + 8) * ld : nullptr};
    DecodeLoads cur, next;
    decode_load<COHERENT_X>(cur, wrow, xrow, k0 + first * KSTEP + 8 * c, k1, T);
    for (int step = first; step < end; step++) {
        const bool more = step + 1 < end;
        if (more) decode_load<COHERENT_X>(next, wrow, xrow, k0 + (step + 1) * KSTEP + 8 * c, k1, T);  // in flight
        decode_multiply<BF16>(acc, cur, T);
        if (more) cur = next;
    }
}

__device__ __forceinline__ void decode_zero(float (&acc)[mma_decode::MT][2][4]) {
    using namespace mma_decode;
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int nt = 0; nt < 2; nt++)
#pragma unroll
            for (int q = 0; q < 4; q++) acc[mt][nt][q] = 0.f;
}

// The block's four split-K partial sums, one per warp; sum(t, col) adds them in warp order.
struct DecodePartials {
    float v[mma_decode::WARPS][DECODE_MAX_T][mma_decode::COLS];
    __device__ __forceinline__ float sum(int t, int col) const {
        float s = v[0][t][col];
#pragma unroll
        for (int w = 1; w < mma_decode::WARPS; w++) s += v[w][t][col];
        return s;
    }
};

// Where decode_stash keeps accumulator q of tile (mt, nt) of a lane of a warp: column mt*16 + g + 8*(q/2) of the
// block's 64, token nt*8 + 2c + q%2 (the m16n8 fragment layout, g = lane/4, c = lane%4).
__device__ __forceinline__ float& decode_slot(DecodePartials& p, int warp, int lane, int mt, int nt, int q) {
    return p.v[warp][nt * 8 + 2 * (lane & 3) + (q & 1)][mt * 16 + (lane >> 2) + 8 * (q >> 1)];
}

// This warp's accumulators back from p, as decode_stash put them.
__device__ __forceinline__ void decode_unstash(float (&acc)[mma_decode::MT][2][4], DecodePartials& p, int warp,
                                               int lane) {
    using namespace mma_decode;
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int nt = 0; nt < 2; nt++)
#pragma unroll
            for (int q = 0; q < 4; q++) acc[mt][nt][q] = decode_slot(p, warp, lane, mt, nt, q);
}

// Every warp's accumulators into p, then a block barrier: p.sum is ready for any thread.
__device__ __forceinline__ void decode_stash(DecodePartials& p, const float (&acc)[mma_decode::MT][2][4], int warp,
                                             int lane) {
    using namespace mma_decode;
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int nt = 0; nt < 2; nt++)
#pragma unroll
            for (int q = 0; q < 4; q++) decode_slot(p, warp, lane, mt, nt, q) = acc[mt][nt][q];
    __syncthreads();
}

// TRANSPOSED: out is written as out^T, [S, T] (row j, column t at out[j * T + t]). A narrow product with many
// rows, Y[M, n] = P[M, K] · Q[n, K]^T with n <= 16 < M (LoRA's shrink x·A^T at prefill), is computed as
// Y^T = Q · P^T: the decode body with Q as its few "tokens" and P as the streamed rows, 64 of them per block,
// so M/64 blocks share the work instead of M/128 blocks each wasting 7/8 of a 128-column tile.
template <typename E, typename O, bool TRANSPOSED>
__device__ __forceinline__ void gemm_mma_decode(const GemmArgs<E, O>& g) {
    using namespace mma_decode;
    constexpr bool BF16 = E::IS_BF16;
    __shared__ DecodePartials partial;
    const long long j0 = (long long)blockIdx.x * COLS;
    if (j0 >= g.valid) {  // all padding: -inf, and W is never touched
        gemm_fill_padding(g, 0, DECODE_MAX_T, j0, COLS);
        return;
    }
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    float acc[MT][2][4];
    decode_zero(acc);
    decode_mma_segment<BF16>(acc, reinterpret_cast<const u16*>(g.X), reinterpret_cast<const u16*>(g.W), g.K, 0, g.K,
                             g.T, g.valid, j0, warp, lane);
    if (g.R > 0) {
        decode_mma_segment<BF16>(acc, reinterpret_cast<const u16*>(g.XA), reinterpret_cast<const u16*>(g.B), g.R, 0,
                                 g.R, g.T, g.valid, j0, warp, lane);
    }
    decode_stash(partial, acc, warp, lane);
    for (int o = threadIdx.x; o < g.T * COLS; o += THREADS) {
        // Transposed, consecutive threads take consecutive t: out[j * T + t] is contiguous along t.
        const int t = TRANSPOSED ? o % g.T : o / COLS, col = TRANSPOSED ? o / g.T : o % COLS;
        const float sum = partial.sum(t, col);
        if (!TRANSPOSED) {
            gemm_store(g, t, j0 + col, sum);
        } else if (j0 + col < g.S) {  // no padding columns, bias or column scale here (the host's choice)
            g.out[(j0 + col) * g.T + t] = O::from_f32(g.alpha * sum);
        }
    }
}

// =====================================================================================================
// SIMT: any dtype, any sizes. 64x64 tiles, k in steps of 16, 4x4 outputs per thread.
// =====================================================================================================

namespace simt_tile {
constexpr int BM = TPK_GEMM_SIMT_BM;
constexpr int BN = TPK_GEMM_SIMT_BN;
constexpr int BK = 16;
constexpr int THREADS = TPK_GEMM_SIMT_THREADS;
}  // namespace simt_tile

template <typename E, typename O>
__device__ __forceinline__ void gemm_simt(const GemmArgs<E, O>& g) {
    using namespace simt_tile;
    __shared__ float As[BK][BM + 4];
    __shared__ float Bs[BK][BN + 4];
    const int tid = threadIdx.x;
    const int m0 = blockIdx.y * BM;
    const long long n0 = (long long)blockIdx.x * BN;
    if (n0 >= g.valid) {
        gemm_fill_padding(g, m0, BM, n0, BN);
        return;
    }
    const int tx = tid & 15;  // 4 columns each
    const int ty = tid >> 4;  // 4 rows each
    float acc[4][4] = {};
    const int total = g.K + g.R;  // the LoRA segment continues the reduction
    for (int k0 = 0; k0 < total; k0 += BK) {
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const int e = tid + i * THREADS;
            const int r = e / BK;
            const int kq = k0 + e % BK;
            const bool lora = kq >= g.K;
            const int k = lora ? kq - g.K : kq;
            const int ld = lora ? g.R : g.K;
            const typename E::T* xs = lora ? g.XA : g.X;
            const typename E::T* ws = lora ? g.B : g.W;
            const bool kin = kq < total;
            As[e % BK][r] = kin && m0 + r < g.T ? E::to_f32(xs[(long long)(m0 + r) * ld + k]) : 0.f;
            Bs[e % BK][r] = kin && n0 + r < g.valid ? E::to_f32(ws[(n0 + r) * (long long)ld + k]) : 0.f;
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
        for (int q = 0; q < 4; q++) gemm_store(g, m0 + ty * 4 + i, n0 + tx * 4 + q, acc[i][q]);
}

// ---- kernel entry points: one name per body, input dtype and output dtype

#define TPK_GEMM_ARGS(E, O)                                                                                    \
    O::T *out, const E::T *X, const E::T *W, const E::T *XA, const E::T *B, const E::T *bias,                 \
        const float *col_scale, int T, int K, int R, long long valid, long long S, float alpha
#define TPK_GEMM_PACK(E, O) GemmArgs<E, O>{out, X, W, XA, B, bias, col_scale, T, K, R, valid, S, alpha}

#define TPK_GEMM_KERNELS(PREFIX, SUFFIX, E, O)                                                                 \
    extern "C" __global__ void __launch_bounds__(simt_tile::THREADS, 2)                                       \
        PREFIX##_simt_##SUFFIX(TPK_GEMM_ARGS(E, O)) { gemm_simt(TPK_GEMM_PACK(E, O)); }                        \
    extern "C" __global__ void __launch_bounds__(TPK_GEMM_DECODE_THREADS)                                     \
        PREFIX##_decode_##SUFFIX(TPK_GEMM_ARGS(E, O)) { gemm_decode(TPK_GEMM_PACK(E, O)); }

#define TPK_GEMM_MMA_KERNEL(PREFIX, SUFFIX, E, O)                                                              \
    extern "C" __global__ void __launch_bounds__(mma_tile::THREADS)                                           \
        PREFIX##_mma_##SUFFIX(TPK_GEMM_ARGS(E, O)) { gemm_mma(TPK_GEMM_PACK(E, O)); }                          \
    extern "C" __global__ void __launch_bounds__(mma_decode::THREADS)                                         \
        PREFIX##_mma_decode_##SUFFIX(TPK_GEMM_ARGS(E, O)) { gemm_mma_decode<E, O, false>(TPK_GEMM_PACK(E, O)); } \
    extern "C" __global__ void __launch_bounds__(mma_decode::THREADS)                                         \
        PREFIX##_mma_decode_t_##SUFFIX(TPK_GEMM_ARGS(E, O)) { gemm_mma_decode<E, O, true>(TPK_GEMM_PACK(E, O)); }

// Every input dtype with every output dtype; tensor cores for the half input types.
#define TPK_GEMM_FAMILY_OUT(PREFIX, IN, E)                                                                     \
    TPK_GEMM_KERNELS(PREFIX, IN##_f32, E, TpkF32)                                                             \
    TPK_GEMM_KERNELS(PREFIX, IN##_bf16, E, TpkBF16)                                                           \
    TPK_GEMM_KERNELS(PREFIX, IN##_f16, E, TpkF16)
#define TPK_GEMM_FAMILY(PREFIX)                                                                                \
    TPK_GEMM_FAMILY_OUT(PREFIX, f32, TpkF32)                                                                  \
    TPK_GEMM_FAMILY_OUT(PREFIX, bf16, TpkBF16)                                                                \
    TPK_GEMM_FAMILY_OUT(PREFIX, f16, TpkF16)                                                                  \
    TPK_GEMM_MMA_KERNEL(PREFIX, bf16_f32, TpkBF16, TpkF32)                                                    \
    TPK_GEMM_MMA_KERNEL(PREFIX, bf16_bf16, TpkBF16, TpkBF16)                                                  \
    TPK_GEMM_MMA_KERNEL(PREFIX, bf16_f16, TpkBF16, TpkF16)                                                    \
    TPK_GEMM_MMA_KERNEL(PREFIX, f16_f32, TpkF16, TpkF32)                                                      \
    TPK_GEMM_MMA_KERNEL(PREFIX, f16_bf16, TpkF16, TpkBF16)                                                    \
    TPK_GEMM_MMA_KERNEL(PREFIX, f16_f16, TpkF16, TpkF16)
