// lm_head_ce.cu: the LM head fused with the vocab-parallel cross-entropy (docs/contract.md, "Vocab-parallel
// cross-entropy", fused form), on the LM head's mma.sync tiles (gemm.cuh's gemm_mma_mainloop): the logits of a
// 128 x 128 tile, z = X[m0.., :]·W_r[n0.., :]ᵀ, live only in the block's accumulators; no [T, S] buffer exists.
//
//   tpk_lmhead_ce_forward_<in>:  block (row block b, column group g) goes through the tiles n0 = g·128,
//       (g + G)·128, ... < valid, and folds each tile, in its epilogue, into its rows' running statistics (max; against
//       it ties and rest in double; the target logit where the tile holds y_t − start). Only the shard's valid columns
//       are computed (the padding ones do not exist here). At the end the block writes its rows' statistics for group
//       g: part_max [G, T], part_packed [G, T, 3] = (ties, rest, target): O(G·T) scratch, G small.
//   tpk_lmhead_ce_fold:  the G groups' statistics of each row folded in group order (ce_fold); local_max and row_max
//       both get the row's maximum (row_max is all-reduced next, local_max kept for the rebase), packed (ties, rest,
//       target), (0, 0, 0) for an ignored token: what tpk_ce_sum_target gives the unfused form.
//   A row block whose every token is ignored (a prompt masked with -100, rows past T) computes nothing in either
//   direction: its statistics stay (-inf, 0, 0, 0) and its dz is 0. The loss and the gradients are unchanged; the
//   work saved is the GEMMs of masked tokens, which the unfused form computes.
//   tpk_lmhead_ce_backward_<in>: block (row block, column tile) computes the tile's logits again, forms
//       dz = scale·(softmax − onehot) in registers from the forward's M_t and (ties, rest) (0 in ignored rows and
//       past valid), rounds it to the input dtype into shared memory, then goes through H a slice of 64 at a time:
//       dX[rows, slice] += dz·W[cols, slice] and, when dW is given, dW[cols, slice] += dzᵀ·X[rows, slice], both on
//       tensor cores and added into the F32 outputs with red.global.add (each output element gets one addition per
//       column tile, or per row block, in an order the hardware picks).
//
// Arithmetic: the logits are f32 sums of products of the input dtype, as the LM head's; exp in f32 (expf), each
// tile's sums in double, then (ties, rest) rounded to f32 once per group as the chunked form rounds once per chunk.
// dz is rounded to the input dtype before its products (its f32 value times the product's f32 accumulation): the
// gradients agree with the unfused form to that dtype's precision, not bit for bit; the sums of the red.adds are
// not in a fixed order, so dX and dW can differ in their last bits from run to run.
//
// Inputs: X [T, K] and W [valid, K] F16 or BF16 row-major, K % 8 == 0 (16-byte rows for cp.async), targets I64 or
// I32 (i64). Dynamic shared memory: TPK_GEMM_MMA_SMEM_BYTES forward, TPK_LMHEAD_CE_BACKWARD_SMEM_BYTES backward.
//
// Versions: v1 (this); checked on the CPU emulator only, not yet run or timed on a GPU.

// tpk-kernels: tpk_lmhead_ce_forward_{bf16,f16} tpk_lmhead_ce_backward_{bf16,f16} tpk_lmhead_ce_fold

#include "cross_entropy.cuh"
#include "gemm.cuh"

namespace ce_tile {
using namespace mma_tile;
constexpr int WN = 4;  // warps across a tile's columns: a row's 128 columns are 4 warps' 32
constexpr int HN = TPK_LMHEAD_CE_HN;
constexpr int LDD = TPK_LMHEAD_CE_LDD;
constexpr int LDH = TPK_LMHEAD_CE_LDH;
static_assert(TPK_LMHEAD_CE_SLICES_BYTES >= TPK_GEMM_MMA_SMEM_BYTES, "the slices cover the main loop's stages");
static_assert(THREADS == 256 && BM == 128 && BN == 128 && HN == 64, "the warp layouts below");
constexpr unsigned FULL = 0xffffffffu;
}  // namespace ce_tile

// Row r of the block's tile for accumulator row index (mi, h) of this lane, and column c for (ni, e): the m16n8
// layout of gemm_mma_mainloop.
__device__ __forceinline__ int ce_row(int wm, int lane, int mi, int h) { return wm + mi * 16 + (lane >> 2) + 8 * h; }
__device__ __forceinline__ int ce_col(int wn, int lane, int ni, int e) { return wn + ni * 8 + (lane & 3) * 2 + e; }

template <typename E>
__device__ __forceinline__ void lmhead_ce_forward(float* part_max, float* part_packed, const typename E::T* X,
                                                  const typename E::T* W, const void* targets, int i64, int T, int K,
                                                  long long valid, long long start) {
    using namespace ce_tile;
    __shared__ float red_max[WN][BM];     // each column warp's maximum of each row of the tile
    __shared__ float red_ties[WN][BM];
    __shared__ double red_rest[WN][BM];
    __shared__ long long hot[BM];         // the row's target as a column of the shard, or −1
    __shared__ float run_max[BM];
    __shared__ double run_ties[BM];
    __shared__ double run_rest[BM];
    __shared__ float run_target[BM];
    u16* As = reinterpret_cast<u16*>(tpk_dynamic_smem());
    u16* Bs = As + STAGES * BM * LDS;
    const GemmArgs<E, TpkF32> g{nullptr, X, W, nullptr, nullptr, nullptr, nullptr, T, K, 0, valid, valid, 1.f};
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int wm = (warp >> 2) * 64, wn = (warp & 3) * 32, wcol = warp & 3;
    const int m0 = blockIdx.x * BM;
    __shared__ int any_counted;           // some row of the block is a token the loss counts
    if (tid == 0) any_counted = 0;
    __syncthreads();
    if (tid < BM) {
        const long long id = m0 + tid < T ? ce_target(targets, i64, m0 + tid) : TPK_CE_IGNORE_INDEX;
        hot[tid] = id != TPK_CE_IGNORE_INDEX && id >= start && id < start + valid ? id - start : -1;
        if (id != TPK_CE_IGNORE_INDEX) any_counted = 1;
        run_max[tid] = tpk_neg_inf();
        run_ties[tid] = 0.0;
        run_rest[tid] = 0.0;
        run_target[tid] = 0.f;
    }
    __syncthreads();
    // A block of ignored tokens (a prompt masked with −100, the padding past T) computes no logits: its rows' statistics
    // stay (−∞, 0, 0, 0), which the fold, the collectives and the finish leave as an ignored row's.
    const long long first_tile = any_counted ? (long long)blockIdx.y * BN : valid;
    for (long long n0 = first_tile; n0 < valid; n0 += (long long)gridDim.y * BN) {
        __syncthreads();  // the last tile is folded and its stages read: both may be written again
        float acc[4][4][4];
        gemm_mma_mainloop(g, m0, n0, As, Bs, acc);
        const long long cols = valid - n0;  // the tile's columns c < cols exist

        // The tile's maximum of each row: this lane's columns, its quad's (the 4 lanes of a row), then the 4 warps'.
#pragma unroll
        for (int mi = 0; mi < 4; mi++) {
#pragma unroll
            for (int h = 0; h < 2; h++) {
                float m = tpk_neg_inf();
#pragma unroll
                for (int ni = 0; ni < 4; ni++)
#pragma unroll
                    for (int e = 0; e < 2; e++)
                        if (ce_col(wn, lane, ni, e) < cols) m = ce_max(m, acc[mi][ni][2 * h + e]);
                m = ce_max(m, __shfl_xor_sync(FULL, m, 1));
                m = ce_max(m, __shfl_xor_sync(FULL, m, 2));
                if ((lane & 3) == 0) red_max[wcol][ce_row(wm, lane, mi, h)] = m;
            }
        }
        __syncthreads();

        // Against it, the ties and the rest, and the target logit where this lane holds it.
#pragma unroll
        for (int mi = 0; mi < 4; mi++) {
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const int r = ce_row(wm, lane, mi, h);
                const float m = ce_max(ce_max(red_max[0][r], red_max[1][r]), ce_max(red_max[2][r], red_max[3][r]));
                const long long target_col = hot[r] - n0;
                float ties = 0.f;  // at most 8 here, 128 over the tile: exact
                double rest = 0.0;
#pragma unroll
                for (int ni = 0; ni < 4; ni++) {
#pragma unroll
                    for (int e = 0; e < 2; e++) {
                        const int c = ce_col(wn, lane, ni, e);
                        if (c >= cols) continue;
                        const float v = acc[mi][ni][2 * h + e];
                        if (v == m) {
                            ties += 1.f;
                        } else {
                            rest = tpk_dadd(rest, (double)expf(v - m));  // NaN when the maximum is NaN or ∞
                        }
                        if (c == target_col) run_target[r] = v;
                    }
                }
                ties += __shfl_xor_sync(FULL, ties, 1);
                ties += __shfl_xor_sync(FULL, ties, 2);
                rest = tpk_dadd(rest, __shfl_xor_sync(FULL, rest, 1));
                rest = tpk_dadd(rest, __shfl_xor_sync(FULL, rest, 2));
                if ((lane & 3) == 0) {
                    red_ties[wcol][r] = ties;
                    red_rest[wcol][r] = rest;
                }
            }
        }
        __syncthreads();

        // The tile's statistics of each row folded into its running ones, by one thread per row, warps in order.
        if (tid < BM) {
            const int r = tid;
            const CeStats tile = {
                    ce_max(ce_max(red_max[0][r], red_max[1][r]), ce_max(red_max[2][r], red_max[3][r])),
                    (double)(red_ties[0][r] + red_ties[1][r] + red_ties[2][r] + red_ties[3][r]),
                    tpk_dadd(tpk_dadd(red_rest[0][r], red_rest[1][r]), tpk_dadd(red_rest[2][r], red_rest[3][r]))};
            const CeStats run = ce_fold({run_max[r], run_ties[r], run_rest[r]}, tile);
            run_max[r] = run.max;
            run_ties[r] = run.ties;
            run_rest[r] = run.rest;
        }
    }
    __syncthreads();
    if (tid < BM && m0 + tid < T) {
        const long long i = (long long)blockIdx.y * T + m0 + tid;
        part_max[i] = run_max[tid];
        part_packed[3 * i] = (float)run_ties[tid];
        part_packed[3 * i + 1] = tpk_d2f(run_rest[tid]);
        part_packed[3 * i + 2] = run_target[tid];
    }
}

extern "C" __global__ void __launch_bounds__(TPK_CROSS_ENTROPY_THREADS)
tpk_lmhead_ce_fold(float* local_max, float* row_max, float* packed, const float* __restrict__ part_max,
                   const float* __restrict__ part_packed, const void* targets, int i64, long long T, int groups) {
    for (long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x; t < T; t += (long long)gridDim.x * blockDim.x) {
        CeStats s = {part_max[t], part_packed[3 * t], part_packed[3 * t + 1]};
        float target = part_packed[3 * t + 2];
        for (int group = 1; group < groups; group++) {
            const long long i = group * T + t;
            s = ce_fold(s, {part_max[i], part_packed[3 * i], part_packed[3 * i + 1]});
            target += part_packed[3 * i + 2];  // at most one group holds the target
        }
        const bool ignored = ce_target(targets, i64, t) == TPK_CE_IGNORE_INDEX;
        local_max[t] = s.max;
        row_max[t] = s.max;
        packed[3 * t] = ignored ? 0.f : (float)s.ties;
        packed[3 * t + 1] = ignored ? 0.f : tpk_d2f(s.rest);
        packed[3 * t + 2] = ignored ? 0.f : target;
    }
}

// acc = Dz-or-Dzᵀ (A, from shared memory) · S (B: a slice stored k-major, n contiguous, LDH apart) over k < kmax,
// for this warp's 32 x 32 of a 128 x 64 output (warp w: rows (w/2)·32, columns (w%2)·32). A_T: A is Dzᵀ, read from
// Dz ([k][m], LDD apart) transposed; else A is Dz itself ([m][k]).
template <bool BF16, bool A_T>
__device__ __forceinline__ void ce_slice_mma(float (&acc)[2][4][4], const u16* Dz, const u16* S, int kmax, int warp,
                                             int lane) {
    using namespace ce_tile;
    const int wr = (warp >> 1) * 32, wc = (warp & 1) * 32;
#pragma unroll
    for (int mi = 0; mi < 2; mi++)
#pragma unroll
        for (int ni = 0; ni < 4; ni++)
#pragma unroll
            for (int q = 0; q < 4; q++) acc[mi][ni][q] = 0.f;
#pragma unroll 2
    for (int kk = 0; kk < kmax; kk += 16) {
        u32 a[2][4];
#pragma unroll
        for (int mi = 0; mi < 2; mi++) {
            if (A_T) {
                // Matrix i = lane/8: m offset 8·(i%2), k offset 8·(i/2); its rows are k.
                const int i = lane >> 3;
                const int k = kk + (i >> 1) * 8 + (lane & 7);
                ldmatrix_x4_trans(a[mi], smem_addr(Dz + k * LDD + wr + mi * 16 + (i & 1) * 8));
            } else {
                const int m = wr + mi * 16 + (lane & 15);
                ldmatrix_x4(a[mi], smem_addr(Dz + m * LDD + kk + (lane >> 4) * 8));
            }
        }
        u32 b[4][2];
#pragma unroll
        for (int np = 0; np < 2; np++) {
            // Matrix i = lane/8: k offset 8·(i%2), n offset 8·(i/2); its rows are k.
            u32 r4[4];
            const int k = kk + ((lane >> 3) & 1) * 8 + (lane & 7);
            ldmatrix_x4_trans(r4, smem_addr(S + k * LDH + wc + np * 16 + (lane >> 4) * 8));
            b[np * 2][0] = r4[0];
            b[np * 2][1] = r4[1];
            b[np * 2 + 1][0] = r4[2];
            b[np * 2 + 1][1] = r4[3];
        }
#pragma unroll
        for (int mi = 0; mi < 2; mi++)
#pragma unroll
            for (int ni = 0; ni < 4; ni++) mma_16816<BF16>(acc[mi][ni], a[mi], b[ni][0], b[ni][1]);
    }
}

// out[(row0 + r)·K + h0 + c] += acc for this warp's outputs with row0 + r < rows, h0 + c < K and, where on is
// given, on[r] (a row whose dz is 0 adds nothing).
__device__ __forceinline__ void ce_slice_add(float* out, const float (&acc)[2][4][4], long long row0, long long rows,
                                             const bool* on, int h0, int K, int warp, int lane) {
    const int wr = (warp >> 1) * 32, wc = (warp & 1) * 32;
#pragma unroll
    for (int mi = 0; mi < 2; mi++) {
#pragma unroll
        for (int ni = 0; ni < 4; ni++) {
#pragma unroll
            for (int q = 0; q < 4; q++) {
                const int r = wr + mi * 16 + (lane >> 2) + 8 * (q >> 1);
                const int h = h0 + wc + ni * 8 + (lane & 3) * 2 + (q & 1);
                if (row0 + r < rows && h < K && (!on || on[r])) tpk_red_add_f32(out + (row0 + r) * K + h, acc[mi][ni][q]);
            }
        }
    }
}

template <typename E>
__device__ __forceinline__ void lmhead_ce_backward(float* dx, float* dw, const typename E::T* X,
                                                   const typename E::T* W, const void* targets, int i64,
                                                   const float* __restrict__ row_max,
                                                   const float* __restrict__ sum_exp, int T, int K, long long valid,
                                                   long long start, double scale, int live) {
    using namespace ce_tile;
    constexpr bool BF16 = E::IS_BF16;
    __shared__ float row_m[BM];       // M_t
    __shared__ float row_coef[BM];    // scale / (ties + rest)
    __shared__ double row_ties[BM];
    __shared__ double row_rest[BM];
    __shared__ int hot[BM];           // the row's target as a column of this tile, or −1
    __shared__ bool row_on[BM];       // the row takes a gradient: a token not ignored, and live
    __shared__ int any_live;
    unsigned char* smem = tpk_dynamic_smem();
    u16* As = reinterpret_cast<u16*>(smem);
    u16* Bs = As + STAGES * BM * LDS;
    u16* Ws = reinterpret_cast<u16*>(smem);  // [2][BN][LDH], over the main loop's stages
    u16* Xs = Ws + 2 * BN * LDH;             // [2][BM][LDH]
    u16* Dz = reinterpret_cast<u16*>(smem + TPK_LMHEAD_CE_SLICES_BYTES);  // [BM][LDD]
    const GemmArgs<E, TpkF32> g{nullptr, X, W, nullptr, nullptr, nullptr, nullptr, T, K, 0, valid, valid, 1.f};
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int wm = (warp >> 2) * 64, wn = (warp & 3) * 32;
    const int m0 = blockIdx.x * BM;
    const long long n0 = (long long)blockIdx.y * BN;
    const long long cols = valid - n0;
    if (tid == 0) any_live = 0;
    __syncthreads();
    if (tid < BM) {
        const long long t = m0 + tid;
        const long long id = t < T ? ce_target(targets, i64, t) : TPK_CE_IGNORE_INDEX;
        const bool row_live = live && id != TPK_CE_IGNORE_INDEX;
        const double ties = row_live ? (double)sum_exp[2 * t] : 0.0;
        const double rest = row_live ? (double)sum_exp[2 * t + 1] : 0.0;
        row_on[tid] = row_live;
        row_m[tid] = row_live ? row_max[t] : 0.f;
        row_ties[tid] = ties;
        row_rest[tid] = rest;
        row_coef[tid] = row_live ? tpk_d2f(tpk_ddiv(scale, tpk_dadd(ties, rest))) : 0.f;
        if (row_live) any_live = 1;
        hot[tid] = row_live && id >= start + n0 && id < start + n0 + BN && id < start + valid ? (int)(id - start - n0)
                                                                                            : -1;
    }
    __syncthreads();
    if (!any_live) return;  // dz is 0 in every row: nothing to add (the whole block decides alike)
    float acc[4][4][4];
    gemm_mma_mainloop(g, m0, n0, As, Bs, acc);

    // dz in registers, then into shared memory in the input dtype (two columns, one 32-bit store).
    u32* Dz2 = reinterpret_cast<u32*>(Dz);
#pragma unroll
    for (int mi = 0; mi < 4; mi++) {
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int r = ce_row(wm, lane, mi, h);
            const bool row_live = row_on[r];
#pragma unroll
            for (int ni = 0; ni < 4; ni++) {
                float d[2];
#pragma unroll
                for (int e = 0; e < 2; e++) {
                    const int c = ce_col(wn, lane, ni, e);
                    d[e] = 0.f;
                    if (row_live && c < cols) {
                        const float ex = expf(acc[mi][ni][2 * h + e] - row_m[r]);
                        // The target's 1 − softmax from (e − ties) − rest, so that it keeps its relative accuracy.
                        d[e] = c == hot[r] ? tpk_d2f(tpk_dmul(scale, tpk_ddiv(tpk_dsub(tpk_dsub((double)ex, row_ties[r]),
                                                                                       row_rest[r]),
                                                                              tpk_dadd(row_ties[r], row_rest[r]))))
                                           : ex * row_coef[r];
                    }
                }
                Dz2[(r * LDD + ce_col(wn, lane, ni, 0)) >> 1] =
                        (u32)E::from_f32(d[0]) | ((u32)E::from_f32(d[1]) << 16);
            }
        }
    }
    __syncthreads();  // dz is whole, and every warp is done with the main loop's stages, which the slices overwrite

    // Through H a slice at a time, two stages: the next slice's loads fly while this one multiplies.
    const int slices = (K + HN - 1) / HN;
    auto load_slice = [&](int stage, int s) {
        const int h0 = s * HN;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const int chunk = tid + i * THREADS;  // 128 rows x 8 chunks of 16 bytes
            const int row = chunk >> 3;
            const int hc = (chunk & 7) * 8;
            const bool hin = h0 + hc < K;
            const bool win = hin && n0 + row < valid;
            cp_async16(smem_addr(Ws + (stage * BN + row) * LDH + hc), win ? W + (n0 + row) * K + h0 + hc : W, win);
            if (dw) {
                const bool xin = hin && m0 + row < T;
                cp_async16(smem_addr(Xs + (stage * BM + row) * LDH + hc),
                           xin ? X + (long long)(m0 + row) * K + h0 + hc : X, xin);
            }
        }
    };
    load_slice(0, 0);
    cp_async_commit();
    for (int s = 0; s < slices; s++) {
        if (s + 1 < slices) load_slice((s + 1) & 1, s + 1);
        cp_async_commit();
        cp_async_wait<1>();
        __syncthreads();  // slice s landed for everyone
        const int h0 = s * HN;
        const int stage = s & 1;
        float out[2][4][4];
        ce_slice_mma<BF16, false>(out, Dz, Ws + stage * BN * LDH, BN, warp, lane);
        ce_slice_add(dx, out, m0, T, row_on, h0, K, warp, lane);
        if (dw) {
            ce_slice_mma<BF16, true>(out, Dz, Xs + stage * BM * LDH, BM, warp, lane);
            ce_slice_add(dw, out, n0, valid, nullptr, h0, K, warp, lane);
        }
        __syncthreads();  // slice s's stage is read: slice s + 2 may land there
    }
    cp_async_wait<0>();  // the last, empty group
}

#define TPK_LMHEAD_CE_KERNELS(SUFFIX, E)                                                                       \
    extern "C" __global__ void __launch_bounds__(mma_tile::THREADS) tpk_lmhead_ce_forward_##SUFFIX(             \
            float* part_max, float* part_packed, const E::T* X, const E::T* W, const void* targets, int i64,      \
            int T, int K, long long valid, long long start) {                                                     \
        lmhead_ce_forward<E>(part_max, part_packed, X, W, targets, i64, T, K, valid, start);                      \
    }                                                                                                          \
    extern "C" __global__ void __launch_bounds__(mma_tile::THREADS) tpk_lmhead_ce_backward_##SUFFIX(            \
            float* dx, float* dw, const E::T* X, const E::T* W, const void* targets, int i64,                     \
            const float* row_max, const float* sum_exp, int T, int K, long long valid, long long start,           \
            double scale, int live) {                                                                             \
        lmhead_ce_backward<E>(dx, dw, X, W, targets, i64, row_max, sum_exp, T, K, valid, start, scale, live);    \
    }

TPK_LMHEAD_CE_KERNELS(bf16, TpkBF16)
TPK_LMHEAD_CE_KERNELS(f16, TpkF16)
