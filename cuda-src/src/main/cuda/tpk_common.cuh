// tpk_common.cuh: element types and conversions shared by the kernels. No CUDA headers, so NVRTC compiles
// every kernel file as is: halves are carried as unsigned short and converted with PTX cvt instructions.
#pragma once

typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

__device__ __forceinline__ float tpk_f16_to_f32(u16 h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}
__device__ __forceinline__ float tpk_bf16_to_f32(u16 b) { return __uint_as_float(((u32)b) << 16); }
__device__ __forceinline__ u16 tpk_f32_to_f16(float f) {
    u16 h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}
__device__ __forceinline__ u16 tpk_f32_to_bf16(float f) {
    u16 b;
    asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(b) : "f"(f));
    return b;
}

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

// 16 bytes through the read-only path.
struct alignas(16) tpk_u32x4 { u32 x, y, z, w; };
__device__ __forceinline__ tpk_u32x4 tpk_ldg16(const void* p) {
    tpk_u32x4 v;
    asm volatile("ld.global.nc.v4.u32 {%0, %1, %2, %3}, [%4];"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
    return v;
}
