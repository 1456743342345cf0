// embedding.cu: the masked (vocab-parallel) embedding lookup, and the plain (hidden-parallel) one.
// docs/contract.md section 4.
//
//   masked:  out[t, :] = W[ids[t] - start, :]   if start <= ids[t] < start + valid
//            out[t, :] = 0                      otherwise
//   plain:   out[t, :] = W[ids[t], :]           (W holds all V rows)
//   both:    ids[t] < 0 or ids[t] >= V is an error: the smallest such t is recorded in *bad (atomicMin),
//            which the host initialises to ~0 and checks after the launch. The plain lookup leaves that row
//            unwritten (there is no row to read); the output is not handed back as valid either way.
//
// One launch does mask, offset, gather and zero-fill. The plain lookup is the same body with the mask compiled
// out (no shard compare, no zero-fill branch): what the hidden-parallel lookup needs, and the baseline that
// measures what masking costs (tpk bench: the masked kernel on ids all inside the shard against this one on the
// same table and ids, the same traffic). The copy is dtype-agnostic: a row is rowWords words of type Word, the
// widest of 16, 8, 4 or 2 bytes that divides a row's bytes (and the pointers' alignment), so the vector path
// covers rows of 16n bytes and 8-byte words those of 16n + 8 (BF16 H = 4100); odd H takes 2-byte words.
// Masked rows are written without reading W.
//
// Mapping: one warp per token row, grid-stride over rows; the 32 lanes stride the row's words, with
// UNROLL independent loads in flight per lane before the first store (memory-level parallelism). The id is
// read once per warp by every lane (one broadcast transaction). Rows of W are read through the read-only
// path (repeated ids hit in L2).
//
// Registers: __launch_bounds__(256, 6) gives every variant the same budget (at most 40 registers, 6 blocks of
// 256 threads per SM, no spills): without it ptxas gave the plain 16-byte kernel 57 (4 blocks per SM) and the
// masked one 44 (5), and the masking cost measured against the plain kernel would have been a difference of
// occupancy. A minimum of 8 blocks (32 registers) spills.
//
// Versions: v1 warp per row, 16-byte words, 4 loads in flight per lane; v2 (this) adds 8-byte words and the
// plain lookup; not yet timed on a GPU.

// tpk-kernels: tpk_embedding{,_plain}_w{16,8,4,2}_{i32,i64}

#include "tpk_constants.cuh"

typedef unsigned long long u64;
struct alignas(16) w16 { unsigned int a, b, c, d; };

template <typename Word>
__device__ __forceinline__ Word zero_word() { Word w; w = Word(); return w; }
template <>
__device__ __forceinline__ w16 zero_word<w16>() { w16 w; w.a = 0; w.b = 0; w.c = 0; w.d = 0; return w; }

template <typename Word>
__device__ __forceinline__ Word load_ro(const Word* p) { return __ldg(p); }
template <>
__device__ __forceinline__ w16 load_ro<w16>(const w16* p) {
    uint4 v = __ldg(reinterpret_cast<const uint4*>(p));
    w16 w; w.a = v.x; w.b = v.y; w.c = v.z; w.d = v.w;
    return w;
}

constexpr int UNROLL = 4;

// One row of rowWords words from src to dst by the 32 lanes of a warp, UNROLL loads in flight per lane.
template <typename Word>
__device__ __forceinline__ void copy_row(Word* __restrict__ dst, const Word* __restrict__ src, long long rowWords,
                                         int lane) {
    for (long long w = lane; w < rowWords; w += 32 * UNROLL) {
        Word v[UNROLL];
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            if (w + u * 32 < rowWords) v[u] = load_ro(src + w + u * 32);
        }
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            if (w + u * 32 < rowWords) dst[w + u * 32] = v[u];
        }
    }
}

// Masked = false compiles the shard compare and the zero-fill out: start and valid are then unused.
template <typename Word, typename Id, bool Masked>
__device__ __forceinline__ void lookup(Word* __restrict__ out, const Word* __restrict__ weight,
                                       const Id* __restrict__ ids, long long tokens, long long start,
                                       long long valid, long long vocab, long long rowWords, u64* bad) {
    const int lane = threadIdx.x & 31;
    const long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
    for (long long t = warp; t < tokens; t += warps) {
        const long long id = (long long)ids[t];
        Word* dst = out + t * rowWords;
        if (id < 0 || id >= vocab) {
            if (lane == 0) atomicMin(bad, (u64)t);
            if (!Masked) continue;  // no row to read; a masked lookup zero-fills it below (local is outside)
        }
        if (!Masked) {
            copy_row(dst, weight + id * rowWords, rowWords, lane);
            continue;
        }
        const long long local = id - start;
        if (local >= 0 && local < valid) {
            copy_row(dst, weight + local * rowWords, rowWords, lane);
        } else {
            const Word z = zero_word<Word>();
            for (long long w = lane; w < rowWords; w += 32) dst[w] = z;
        }
    }
}

#define TPK_LOOKUP(NAME, WORD, ID)                                                                       \
    extern "C" __global__ void __launch_bounds__(TPK_EMBEDDING_THREADS, TPK_EMBEDDING_MIN_BLOCKS_PER_SM) \
    NAME(WORD* out, const WORD* weight, const ID* ids, long long tokens, long long start,                \
         long long valid, long long vocab, long long rowWords, u64* bad) {                               \
        lookup<WORD, ID, true>(out, weight, ids, tokens, start, valid, vocab, rowWords, bad);            \
    }

#define TPK_PLAIN_LOOKUP(NAME, WORD, ID)                                                                 \
    extern "C" __global__ void __launch_bounds__(TPK_EMBEDDING_THREADS, TPK_EMBEDDING_MIN_BLOCKS_PER_SM) \
    NAME(WORD* out, const WORD* weight, const ID* ids, long long tokens, long long vocab,                \
         long long rowWords, u64* bad) {                                                                 \
        lookup<WORD, ID, false>(out, weight, ids, tokens, 0, vocab, vocab, rowWords, bad);               \
    }

TPK_LOOKUP(tpk_embedding_w16_i32, w16, int)
TPK_LOOKUP(tpk_embedding_w16_i64, w16, long long)
TPK_LOOKUP(tpk_embedding_w8_i32, u64, int)
TPK_LOOKUP(tpk_embedding_w8_i64, u64, long long)
TPK_LOOKUP(tpk_embedding_w4_i32, unsigned int, int)
TPK_LOOKUP(tpk_embedding_w4_i64, unsigned int, long long)
TPK_LOOKUP(tpk_embedding_w2_i32, unsigned short, int)
TPK_LOOKUP(tpk_embedding_w2_i64, unsigned short, long long)

TPK_PLAIN_LOOKUP(tpk_embedding_plain_w16_i32, w16, int)
TPK_PLAIN_LOOKUP(tpk_embedding_plain_w16_i64, w16, long long)
TPK_PLAIN_LOOKUP(tpk_embedding_plain_w8_i32, u64, int)
TPK_PLAIN_LOOKUP(tpk_embedding_plain_w8_i64, u64, long long)
TPK_PLAIN_LOOKUP(tpk_embedding_plain_w4_i32, unsigned int, int)
TPK_PLAIN_LOOKUP(tpk_embedding_plain_w4_i64, unsigned int, long long)
TPK_PLAIN_LOOKUP(tpk_embedding_plain_w2_i32, unsigned short, int)
TPK_PLAIN_LOOKUP(tpk_embedding_plain_w2_i64, unsigned short, long long)
