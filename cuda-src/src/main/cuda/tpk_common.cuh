// tpk_common.cuh: element types and conversions shared by the kernels, with the constants they share with
// their launches (tpk_constants.cuh). No CUDA headers, so NVRTC compiles every kernel file as is: halves are
// carried as unsigned short and converted with the PTX cvt helpers of tpk_ptx.cuh.
#pragma once

#include "tpk_constants.cuh"
#include "tpk_ptx.cuh"

__device__ __forceinline__ float tpk_bf16_to_f32(u16 b) { return __uint_as_float(((u32)b) << 16); }

// Element types: storage T and the conversions through f32.
struct TpkF32 {
    typedef float T;
    static constexpr bool IS_BF16 = false;
    static __device__ __forceinline__ float to_f32(T v) { return v; }
    static __device__ __forceinline__ T from_f32(float v) { return v; }
};
struct TpkF16 {
    typedef u16 T;
    static constexpr bool IS_BF16 = false;
    static __device__ __forceinline__ float to_f32(T v) { return tpk_f16_to_f32(v); }
    static __device__ __forceinline__ T from_f32(float v) { return tpk_f32_to_f16(v); }
};
struct TpkBF16 {
    typedef u16 T;
    static constexpr bool IS_BF16 = true;
    static __device__ __forceinline__ float to_f32(T v) { return tpk_bf16_to_f32(v); }
    static __device__ __forceinline__ T from_f32(float v) { return tpk_f32_to_bf16(v); }
};

__device__ __forceinline__ float tpk_neg_inf() { return __uint_as_float(0xff800000u); }
