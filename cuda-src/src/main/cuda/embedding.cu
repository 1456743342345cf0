// embedding.cu: the masked (vocab-parallel) embedding lookup, and with start = 0, valid = V the plain
// (hidden-parallel) one. SEMANTICS.md section 3.
//
//   out[t, :] = W[ids[t] - start, :]   if start <= ids[t] < start + valid
//   out[t, :] = 0                      otherwise
//   ids[t] < 0 or ids[t] >= V          is an error: the smallest such t is recorded in *bad (atomicMin),
//                                      which the host initialises to ~0 and checks after the launch.
//
// One launch does mask, offset, gather and zero-fill. The copy is dtype-agnostic: a row is rowWords words
// of type Word, where Word is a 16-byte vector when a row's bytes are a multiple of 16 (and the pointers
// 16-aligned), else 4 or 2 bytes (the scalar path for odd H). Masked rows are written without reading W.
//
// Mapping: one warp per token row, grid-stride over rows; the 32 lanes stride the row's words, with
// UNROLL independent loads in flight per lane before the first store (memory-level parallelism). The id is
// read once per warp by every lane (one broadcast transaction). Rows of W are read through the read-only
// path (repeated ids hit in L2).
//
// Versions: v1 (this) warp per row, 16-byte words, 4 loads in flight per lane; not yet timed on a GPU.

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

template <typename Word, typename Id>
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
        }
        const long long local = id - start;
        if (local >= 0 && local < valid) {
            const Word* src = weight + local * rowWords;
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
        } else {
            const Word z = zero_word<Word>();
            for (long long w = lane; w < rowWords; w += 32) dst[w] = z;
        }
    }
}

#define TPK_LOOKUP(NAME, WORD, ID)                                                                     \
    extern "C" __global__ void __launch_bounds__(256)                                                 \
    NAME(WORD* out, const WORD* weight, const ID* ids, long long tokens, long long start,             \
         long long valid, long long vocab, long long rowWords, u64* bad) {                            \
        lookup<WORD, ID>(out, weight, ids, tokens, start, valid, vocab, rowWords, bad);               \
    }

TPK_LOOKUP(tpk_embedding_w16_i32, w16, int)
TPK_LOOKUP(tpk_embedding_w16_i64, w16, long long)
TPK_LOOKUP(tpk_embedding_w4_i32, unsigned int, int)
TPK_LOOKUP(tpk_embedding_w4_i64, unsigned int, long long)
TPK_LOOKUP(tpk_embedding_w2_i32, unsigned short, int)
TPK_LOOKUP(tpk_embedding_w2_i64, unsigned short, long long)
