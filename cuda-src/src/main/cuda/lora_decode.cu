// lora_decode.cu: the fused LoRA linear for decode (T <= 16, F16/BF16 in) in ONE launch,
//
//   y[t, j] = c[j] * (sum_k x[t, k] * W[j, k]  +  sum_r xa[t, r] * B[j, r])  +  bias[j],   xa = round(s * x · A^T)
//
// with xa rounded to the input dtype as in LoraLinear's contract (docs/contract.md section 8) and c = col_scale
// (DoRA's per-column scale, F32) or 1 where it is null; y is stored through gemm.cuh's gemm_store.
//   tpk_lora_decode_<in>_<out>(y, x, W, A, B, bias, col_scale, T, K, R, N, s, partial, xa, arrived, ready, claims,
//                              epoch, splits, kslice)
//
// Why one launch: at decode the base product streams W (134 MB at K = N = 8192) in about 30-45 us, and the
// shrink x · A^T is tiny (A is 256 KB at R = 16) but, as a launch of its own, one block long and in front of
// the base: 5-20 us of a 10% budget. Here the shrink runs beside the base instead. Its work is ceil(R/64) *
// splits "splits": 64 rows of A over one k-range [split * kslice, +kslice), computed with the decode body
// (gemm.cuh) into f32 partial sums partial[split][t][r]. Each split is claimed once, from a counter (claims:
// this launch's epoch and the next unclaimed split, in one word, so it needs no reset between launches).
// Whoever computes a split then arrives on a wrapping counter (which the last arrival leaves at 0); the last
// to arrive adds the splits in split order (deterministic), writes xa = round(s * sum) and publishes `epoch`
// in `ready`.
//   blocks [0, splits total), the shrink blocks, claim splits until none is left.
//   the blocks after them, the base blocks: 64 columns of y each, as gemm_mma_decode: W streamed once into
//     mma fragments, split-K over 4 warps. Before the expand segment (xa · B^T, R more k) a base block checks
//     `ready`; normally the shrink, which started first, is long done. If not, it claims and computes the
//     splits nobody has claimed yet, and only then waits, for splits that running blocks are computing.
// So no block ever waits for a block that has not started (CUDA promises no order of dispatch, and no
// progress to blocks not yet resident); blocks that are running do progress. arrived/ready/claims/partial/xa
// are a per-stream scratch (LoraDecodeCuda.java): launches on one stream run one after another, and each
// launch's epoch differs from the previous one's, so neither a stale `ready` nor stale claims match. The
// epoch is a launch parameter, so a CUDA graph replaying the launch would find its own `ready` already set:
// the host never takes this kernel while the stream is being captured. Never launch it with programmatic
// dependent launch either: two launches would overlap on one scratch.
//
// Versions: v1 (this): not yet run on a GPU. Prediction: base time + under 2% at K = N = 8192, R = 16.

// tpk-kernels: tpk_lora_decode_{bf16,f16}_{f32,bf16,f16}

#include "gemm.cuh"

template <typename E, typename O>
struct LoraDecodeArgs {
    GemmArgs<E, O> g;       // out = y, X = x, W, XA = xa, B, bias, col_scale, T, K, R, valid = S = N, alpha = 1
    const typename E::T* A;  // [R, K]
    float scale;
    float* partial;          // [splits, T, R]
    typename E::T* xa;       // [T, R], written here
    u32* arrived;            // arrivals of computed splits, 0 between launches
    u32* ready;              // = epoch once xa is written
    u64* claims;             // (epoch << 32) | splits claimed so far in that launch
    u32 epoch;
    int splits, kslice;
    __device__ __forceinline__ int total() const { return (g.R + mma_decode::COLS - 1) / mma_decode::COLS * splits; }
};

// The next unclaimed split of this launch, or -1 when all are claimed (thread 0 of a block).
template <typename E, typename O>
__device__ __forceinline__ int claim_split(const LoraDecodeArgs<E, O>& a) {
    const u64 first = (u64)a.epoch << 32;
    u64 seen = first;  // a guess; the compare-and-swap corrects it
    for (;;) {
        const bool ours = (seen >> 32) == a.epoch;  // else a previous launch's word: this launch starts at 0
        const u32 next = ours ? (u32)seen : 0u;
        if ((int)next >= a.total()) return -1;
        const u64 old = tpk_atomic_cas64(a.claims, seen, first | (next + 1));
        if (old == seen) return (int)next;
        seen = old;
    }
}

// One split (every thread of the block): its partial sums of x · A^T for 64 rows of A over one k-range; the
// last split to arrive adds them all and publishes xa.
template <typename E, typename O>
__device__ __forceinline__ void lora_shrink_split(const LoraDecodeArgs<E, O>& a, DecodePartials& partial, int ticket) {
    using namespace mma_decode;
    const GemmArgs<E, O>& g = a.g;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int split = ticket % a.splits;
    const long long r0 = (long long)(ticket / a.splits) * COLS;
    const int k0 = split * a.kslice, k1 = min(g.K, k0 + a.kslice);
    float acc[MT][2][4];
    decode_zero(acc);
    decode_mma_segment<E::IS_BF16>(acc, reinterpret_cast<const u16*>(g.X), reinterpret_cast<const u16*>(a.A), g.K,
                                   k0, k1, g.T, g.R, r0, warp, lane);
    decode_stash(partial, acc, warp, lane);
    float* mine = a.partial + (long long)split * g.T * g.R;
    for (int o = threadIdx.x; o < g.T * COLS; o += THREADS) {
        const int t = o / COLS, col = o % COLS;
        if (r0 + col < g.R) mine[t * g.R + r0 + col] = partial.sum(t, col);
    }
    // Arrival: thread 0's release covers the block's partial sums (written before the barrier); for the last
    // arrival, its acquire covers every other split's, for all of this block's threads after the next barrier.
    __syncthreads();
    __shared__ bool last;
    if (threadIdx.x == 0) last = tpk_arrive_inc(a.arrived, a.total() - 1) == (u32)(a.total() - 1);
    __syncthreads();
    if (!last) return;
    const int n = g.T * g.R;
    for (int o = threadIdx.x; o < n; o += THREADS) {
        float sum = 0.f;
#pragma unroll 4
        for (int s = 0; s < a.splits; s++) sum += tpk_ldcg_f32(a.partial + (long long)s * n + o);
        a.xa[o] = E::from_f32(a.scale * sum);
    }
    __syncthreads();
    if (threadIdx.x == 0) tpk_publish(a.ready, a.epoch);
}

// Claims and computes splits until none is left (every thread of the block).
template <typename E, typename O>
__device__ __forceinline__ void lora_shrink_claimed(const LoraDecodeArgs<E, O>& a, DecodePartials& partial) {
    __shared__ int ticket;
    for (;;) {
        if (threadIdx.x == 0) ticket = claim_split(a);
        __syncthreads();
        const int mine = ticket;
        __syncthreads();  // everyone has read it before thread 0 claims again
        if (mine < 0) return;
        lora_shrink_split(a, partial, mine);
    }
}

// A base block: 64 columns of y, the base product first, then (once xa is published) the expand.
template <typename E, typename O>
__device__ __forceinline__ void lora_base_columns(const LoraDecodeArgs<E, O>& a, DecodePartials& partial,
                                                  long long j0) {
    using namespace mma_decode;
    const GemmArgs<E, O>& g = a.g;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    float acc[MT][2][4];
    decode_zero(acc);
    decode_mma_segment<E::IS_BF16>(acc, reinterpret_cast<const u16*>(g.X), reinterpret_cast<const u16*>(g.W), g.K, 0,
                                   g.K, g.T, g.valid, j0, warp, lane);
    __shared__ bool published;
    if (threadIdx.x == 0) published = tpk_load_acquire(a.ready) == a.epoch;
    __syncthreads();
    if (!published) {  // rare: help with what nobody has claimed, then wait for the splits running blocks compute
        // The base sums wait in shared memory meanwhile: registers held across the shrink would cost every
        // launch occupancy (212 registers instead of about 160).
        __shared__ DecodePartials saved;
        decode_stash(saved, acc, warp, lane);
        lora_shrink_claimed(a, partial);
        if (threadIdx.x == 0) tpk_wait_flag(a.ready, a.epoch);
        __syncthreads();
        decode_unstash(acc, saved, warp, lane);
    }
    decode_mma_segment<E::IS_BF16, true>(acc, reinterpret_cast<const u16*>(a.xa), reinterpret_cast<const u16*>(g.B),
                                         g.R, 0, g.R, g.T, g.valid, j0, warp, lane);
    decode_stash(partial, acc, warp, lane);
    for (int o = threadIdx.x; o < g.T * COLS; o += THREADS) gemm_store(g, o / COLS, j0 + o % COLS, partial.sum(o / COLS, o % COLS));
}

template <typename E, typename O>
__device__ __forceinline__ void lora_decode(const LoraDecodeArgs<E, O>& a) {
    using namespace mma_decode;
    __shared__ DecodePartials partial;
    if ((int)blockIdx.x < a.total()) {
        lora_shrink_claimed(a, partial);
    } else {
        lora_base_columns(a, partial, (long long)(blockIdx.x - a.total()) * COLS);
    }
}

#define TPK_LORA_DECODE(SUFFIX, E, O)                                                                          \
    extern "C" __global__ void __launch_bounds__(mma_decode::THREADS) tpk_lora_decode_##SUFFIX(                \
        O::T* y, const E::T* x, const E::T* W, const E::T* A, const E::T* B, const E::T* bias,                 \
        const float* col_scale, int T, int K, int R, long long N, float scale, float* partial, E::T* xa,       \
        u32* arrived, u32* ready, u64* claims, u32 epoch, int splits, int kslice) {                           \
        lora_decode(LoraDecodeArgs<E, O>{GemmArgs<E, O>{y, x, W, xa, B, bias, col_scale, T, K, R, N, N, 1.f}, \
                                         A, scale, partial, xa, arrived, ready, claims, epoch, splits, kslice}); \
    }

TPK_LORA_DECODE(bf16_f32, TpkBF16, TpkF32)
TPK_LORA_DECODE(bf16_bf16, TpkBF16, TpkBF16)
TPK_LORA_DECODE(bf16_f16, TpkBF16, TpkF16)
TPK_LORA_DECODE(f16_f32, TpkF16, TpkF32)
TPK_LORA_DECODE(f16_bf16, TpkF16, TpkBF16)
TPK_LORA_DECODE(f16_f16, TpkF16, TpkF16)
