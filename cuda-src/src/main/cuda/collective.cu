// collective.cu: the device side of the in-process group (LocalGroup) when its ranks share a GPU.
//
//   tpk_reduce_<op>_<dtype>(out, count, n, p0..p15):  out[i] = op over r = 0..n-1 of p_r[i]
//       SUM: in f32 (integers in 64 bits) in rank order 0..n-1, rounded to the dtype once, so the result is
//            bitwise what the CPU reduction computes (Reductions.host);
//       MAX: IEEE 754-2019 maximum, i.e. Java's Math.max: a NaN anywhere gives NaN, and +0 is above -0 (-0, +0
//            gives +0 in either order; a bare `x > acc ? x : acc` would keep whichever zero came first).
//       A NaN result (of either op) is stored as the dtype's canonical quiet NaN, 0x7FC00000 / 0x7E00 / 0x7FC0
//       (sign clear, quiet bit, no payload), bit for bit what the CPU stores: the GPU's own arithmetic and cvt
//       make other NaNs (0x7FFFFFFF, 0x7FFF), so the payload is never left to them.
//   tpk_copy_rows_b<w>(dst, dstStride, src, srcStride, rowBytes, rows):  rows strided byte rows, in w-byte
//       words: a slab along any dimension of a contiguous tensor is `outer` such rows.
//
// Versions: v2 (this: MAX orders -0 below +0, NaN results canonical); v1: `x > acc` MAX, NaNs as computed.
// Not yet run on a GPU.

// tpk-kernels: tpk_reduce_{sum,max}_{f32,f16,bf16,i32,i64} tpk_copy_rows_{b4,b1}

#include "tpk_common.cuh"

constexpr int MAX_INPUTS = TPK_COLLECTIVE_MAX_INPUTS;
static_assert(MAX_INPUTS == 16, "TPK_PTRS and TPK_PTR_ARRAY below list 16 pointers");

// The canonical quiet NaN of each float element type (see the top of the file).
template <typename E>
__device__ __forceinline__ typename E::T canonical_nan();
template <>
__device__ __forceinline__ float canonical_nan<TpkF32>() { return __uint_as_float(0x7fc00000u); }
template <>
__device__ __forceinline__ u16 canonical_nan<TpkF16>() { return 0x7e00; }
template <>
__device__ __forceinline__ u16 canonical_nan<TpkBF16>() { return 0x7fc0; }

struct TpkI32 {
    typedef int T;
};
struct TpkI64 {
    typedef long long T;
};

template <typename E, bool MAX>
__device__ __forceinline__ void reduce_float(typename E::T* out, long long count, int n,
                                             const typename E::T* const (&p)[MAX_INPUTS]) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
        float acc = E::to_f32(p[0][i]);
#pragma unroll
        for (int r = 1; r < MAX_INPUTS; r++) {
            if (r < n) {
                const float x = E::to_f32(p[r][i]);
                if (MAX) {
                    // x wins when greater, or equal with acc a -0 (then x is +0, or -0 and nothing changes).
                    const bool above = x > acc || (x == acc && __float_as_uint(acc) == 0x80000000u);
                    acc = (x != x || acc != acc) ? canonical_nan<TpkF32>() : (above ? x : acc);
                } else {
                    acc += x;
                }
            }
        }
        out[i] = acc != acc ? canonical_nan<E>() : E::from_f32(acc);
    }
}

template <typename T, bool MAX>
__device__ __forceinline__ void reduce_int(T* out, long long count, int n, const T* const (&p)[MAX_INPUTS]) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
        long long acc = p[0][i];
#pragma unroll
        for (int r = 1; r < MAX_INPUTS; r++) {
            if (r < n) {
                const long long x = p[r][i];
                acc = MAX ? (x > acc ? x : acc) : acc + x;
            }
        }
        out[i] = (T)acc;
    }
}

#define TPK_PTRS(T) const T *p0, const T *p1, const T *p2, const T *p3, const T *p4, const T *p5, const T *p6,      \
                    const T *p7, const T *p8, const T *p9, const T *p10, const T *p11, const T *p12, const T *p13,   \
                    const T *p14, const T *p15
#define TPK_PTR_ARRAY {p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, p12, p13, p14, p15}

#define TPK_REDUCE_FLOAT(NAME, E, MAX)                                                                         \
    extern "C" __global__ void __launch_bounds__(TPK_COLLECTIVE_THREADS)                                      \
    NAME(E::T* out, long long count, int n, TPK_PTRS(E::T)) {                                                 \
        const E::T* const p[MAX_INPUTS] = TPK_PTR_ARRAY;                                                      \
        reduce_float<E, MAX>(out, count, n, p);                                                               \
    }
#define TPK_REDUCE_INT(NAME, T, MAX)                                                                           \
    extern "C" __global__ void __launch_bounds__(TPK_COLLECTIVE_THREADS)                                      \
    NAME(T* out, long long count, int n, TPK_PTRS(T)) {                                                       \
        const T* const p[MAX_INPUTS] = TPK_PTR_ARRAY;                                                         \
        reduce_int<T, MAX>(out, count, n, p);                                                                 \
    }

TPK_REDUCE_FLOAT(tpk_reduce_sum_f32, TpkF32, false)
TPK_REDUCE_FLOAT(tpk_reduce_sum_f16, TpkF16, false)
TPK_REDUCE_FLOAT(tpk_reduce_sum_bf16, TpkBF16, false)
TPK_REDUCE_FLOAT(tpk_reduce_max_f32, TpkF32, true)
TPK_REDUCE_FLOAT(tpk_reduce_max_f16, TpkF16, true)
TPK_REDUCE_FLOAT(tpk_reduce_max_bf16, TpkBF16, true)
TPK_REDUCE_INT(tpk_reduce_sum_i32, int, false)
TPK_REDUCE_INT(tpk_reduce_sum_i64, long long, false)
TPK_REDUCE_INT(tpk_reduce_max_i32, int, true)
TPK_REDUCE_INT(tpk_reduce_max_i64, long long, true)

template <typename W>
__device__ __forceinline__ void copy_rows(unsigned char* dst, long long dstStride, const unsigned char* src,
                                          long long srcStride, long long rowBytes, long long rows) {
    const long long words = rowBytes / sizeof(W);
    const long long total = words * rows;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (long long)gridDim.x * blockDim.x) {
        const long long row = i / words;
        const long long w = i % words;
        reinterpret_cast<W*>(dst + row * dstStride)[w] = reinterpret_cast<const W*>(src + row * srcStride)[w];
    }
}

extern "C" __global__ void __launch_bounds__(TPK_COLLECTIVE_THREADS)
tpk_copy_rows_b4(unsigned char* dst, long long dstStride, const unsigned char* src, long long srcStride,
                 long long rowBytes, long long rows) {
    copy_rows<unsigned int>(dst, dstStride, src, srcStride, rowBytes, rows);
}
extern "C" __global__ void __launch_bounds__(TPK_COLLECTIVE_THREADS)
tpk_copy_rows_b1(unsigned char* dst, long long dstStride, const unsigned char* src, long long srcStride,
                 long long rowBytes, long long rows) {
    copy_rows<unsigned char>(dst, dstStride, src, srcStride, rowBytes, rows);
}
