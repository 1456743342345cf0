// cast.cu: element-wise dtype conversion between F32, F16 and BF16.
//
//   dst[i] = convert(src[i])            for 0 <= i < n
//
// Narrowing rounds to nearest, ties to even; NaN stays NaN and +-inf stays +-inf (PTX cvt.rn.*), which is
// what io.tpkernels.runtime.DType does on the CPU, so the CPU path is the bit-exact reference for all
// non-NaN values. Widening (f16/bf16 -> f32) is exact. f16 <-> bf16 goes through f32: the widening is
// exact, so there is one rounding.
//
// Memory-bound: each thread moves 4 elements per step with one vector load and one vector store when both
// pointers are aligned to 4 elements (device allocations are; row views may not be), otherwise 4 scalar
// accesses. Grid-stride loop, so any grid size covers any n.
//
// Versions: v1 (this) vector-or-scalar grid-stride loop; not yet timed on a GPU.
//
// No CUDA headers: halves are carried as unsigned short and converted with the PTX cvt helpers of
// tpk_common.cuh, so NVRTC compiles this file without cuda_fp16.h.

// tpk-kernels: tpk_cast_f32_to_{f16,bf16} tpk_cast_{f16,bf16}_to_f32 tpk_cast_f16_to_bf16 tpk_cast_bf16_to_f16

#include "tpk_common.cuh"

// Vector types of our own (alignas is standard C++), so the file needs no CUDA header under NVRTC either.
struct alignas(16) f32x4 { float x, y, z, w; };
struct alignas(8) u16x4 { u16 x, y, z, w; };

// One struct per element type: its storage, its 4-wide vector, and its conversions through f32.
struct F32 {
    typedef float T;
    typedef f32x4 V;
    static __device__ __forceinline__ float to_f32(T v) { return v; }
    static __device__ __forceinline__ T from_f32(float v) { return v; }
    static __device__ __forceinline__ void unpack(V v, T (&e)[4]) { e[0] = v.x; e[1] = v.y; e[2] = v.z; e[3] = v.w; }
    static __device__ __forceinline__ V pack(const T (&e)[4]) { V v; v.x = e[0]; v.y = e[1]; v.z = e[2]; v.w = e[3]; return v; }
};
// F16 and BF16 share their storage and vector; they differ only in the conversions.
struct U16Storage {
    typedef u16 T;
    typedef u16x4 V;
    static __device__ __forceinline__ void unpack(V v, T (&e)[4]) { e[0] = v.x; e[1] = v.y; e[2] = v.z; e[3] = v.w; }
    static __device__ __forceinline__ V pack(const T (&e)[4]) { V v; v.x = e[0]; v.y = e[1]; v.z = e[2]; v.w = e[3]; return v; }
};
struct F16 : U16Storage {
    static __device__ __forceinline__ float to_f32(T v) { return tpk_f16_to_f32(v); }
    static __device__ __forceinline__ T from_f32(float v) { return tpk_f32_to_f16(v); }
};
struct BF16 : U16Storage {
    static __device__ __forceinline__ float to_f32(T v) { return tpk_bf16_to_f32(v); }
    static __device__ __forceinline__ T from_f32(float v) { return tpk_f32_to_bf16(v); }
};

template <typename S, typename D>
__device__ __forceinline__ void cast(typename D::T* __restrict__ dst, const typename S::T* __restrict__ src,
                                     long long n) {
    static_assert(sizeof(typename S::V) == TPK_CAST_ELEMENTS_PER_THREAD * sizeof(typename S::T) &&
                      sizeof(typename D::V) == TPK_CAST_ELEMENTS_PER_THREAD * sizeof(typename D::T),
                  "a step is one vector of each");
    const long long stride = (long long)gridDim.x * blockDim.x * TPK_CAST_ELEMENTS_PER_THREAD;
    long long i = ((long long)blockIdx.x * blockDim.x + threadIdx.x) * TPK_CAST_ELEMENTS_PER_THREAD;
    const bool vec = ((unsigned long long)src % sizeof(typename S::V) == 0)
                  && ((unsigned long long)dst % sizeof(typename D::V) == 0);
    if (vec) {
        for (; i + 3 < n; i += stride) {
            typename S::T in[4];
            typename D::T out[4];
            S::unpack(*reinterpret_cast<const typename S::V*>(src + i), in);
#pragma unroll
            for (int k = 0; k < 4; k++) out[k] = D::from_f32(S::to_f32(in[k]));
            *reinterpret_cast<typename D::V*>(dst + i) = D::pack(out);
        }
    } else {
        for (; i + 3 < n; i += stride) {
#pragma unroll
            for (int k = 0; k < 4; k++) dst[i + k] = D::from_f32(S::to_f32(src[i + k]));
        }
    }
    // The last n % 4 elements: the thread whose step lands on them.
    for (; i < n; i++) dst[i] = D::from_f32(S::to_f32(src[i]));
}

// Kernel names say what they read and write; parameters are (dst, src, n) for all of them.
#define TPK_CAST(NAME, S, D)                                                                           \
    extern "C" __global__ void __launch_bounds__(TPK_CAST_THREADS)                                     \
    NAME(D::T* __restrict__ dst, const S::T* __restrict__ src, long long n) { cast<S, D>(dst, src, n); }

TPK_CAST(tpk_cast_f32_to_f16, F32, F16)
TPK_CAST(tpk_cast_f32_to_bf16, F32, BF16)
TPK_CAST(tpk_cast_f16_to_f32, F16, F32)
TPK_CAST(tpk_cast_bf16_to_f32, BF16, F32)
TPK_CAST(tpk_cast_f16_to_bf16, F16, BF16)
TPK_CAST(tpk_cast_bf16_to_f16, BF16, F16)
