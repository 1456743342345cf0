// tpk_ptx_emulated.h: host implementations of the primitives of tpk_ptx.cuh, from the PTX ISA's definitions
// (cvt rounding, cp.async groups, ldmatrix and mma.m16n8k16 fragment layouts). Included by tpk_ptx.cuh when
// TPK_EMULATION is defined (cuda_host.h defines it); never part of the PTX build.
#pragma once

#include <cmath>

namespace tpk_emu {

// ---- conversions: round to nearest, ties to even; NaN -> the canonical NaN 0x7fff, as cvt.rn does.

inline float f16_to_f32(u16 h) {
    const u32 sign = (u32)(h & 0x8000) << 16;
    const int exp = (h >> 10) & 0x1f;
    const u32 man = h & 0x3ff;
    if (exp == 0x1f) return __uint_as_float(sign | 0x7f800000u | (man << 13));  // inf or NaN
    if (exp != 0) return __uint_as_float(sign | ((u32)(exp - 15 + 127) << 23) | (man << 13));
    // zero or subnormal: man * 2^-24, exact in f32
    const float v = std::ldexp((float)man, -24);
    return sign ? -v : v;
}

inline u16 f32_to_f16(float f) {
    const u32 u = __float_as_uint(f);
    const u16 sign = (u >> 16) & 0x8000;
    const u32 abs = u & 0x7fffffffu;
    if (abs > 0x7f800000u) return 0x7fff;
    if (abs >= 0x477ff000u) return sign | 0x7c00;  // rounds to >= 2^16: infinity (65520 and up)
    const int exp = (int)(abs >> 23) - 127;
    if (exp >= -14) {  // normal half: keep 10 of 23 mantissa bits
        const u32 man = abs & 0x7fffff;
        u32 h = ((u32)(exp + 15) << 10) | (man >> 13);
        const u32 rest = man & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++;  // a carry into the exponent is still right
        return sign | (u16)h;
    }
    // subnormal half (or zero): value / 2^-24, rounded to an integer, ties to even
    const float scaled = std::ldexp(__uint_as_float(abs), 24);  // exact: a power-of-two scaling
    const float r = std::nearbyint(scaled);                      // default rounding mode: ties to even
    return sign | (u16)r;                                        // 1024 -> 0x400, the smallest normal
}

inline u16 f32_to_bf16(float f) {
    const u32 u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fff;
    const u32 rounded = u + 0x7fff + ((u >> 16) & 1);
    return (u16)(rounded >> 16);
}

// ---- cp.async: copies are queued per thread and land when a wait_group retires their group, so a kernel
// that reads a stage before waiting for it reads stale data here (it would on a GPU too, sometimes).

void cp_async_queue(u32 dst, const void* src, bool pred);
void cp_async_commit_group();
void cp_async_wait_groups(int allowed_in_flight);
u32 shared_window_address(const void* p);

// %globaltimer: the host's monotonic clock, plus the time that passed while blocks could not progress.
u64 globaltimer_ns();
// Yields to the other threads of the block, noting the value at addr (device.cpp: a spin is polls that see the
// same value).
void poll(const u32* addr);
// Fails the launch: the kernel executed trap.
[[noreturn]] void trap();

void ldmatrix_x4(u32 (&r)[4], u32 addr);
void ldmatrix_x4_trans(u32 (&r)[4], u32 addr);
void mma_16816(float (&d)[4], const u32 (&a)[4], u32 b0, u32 b1, bool bf16);

}  // namespace tpk_emu

// IEEE double operations, each rounded to nearest (x86-64's SSE2 without FMA: no contraction).
__device__ __forceinline__ double tpk_dmul(double a, double b) { return a * b; }
__device__ __forceinline__ double tpk_dadd(double a, double b) { return a + b; }
__device__ __forceinline__ double tpk_dsub(double a, double b) { return a - b; }
__device__ __forceinline__ double tpk_ddiv(double a, double b) { return a / b; }
__device__ __forceinline__ double tpk_dsqrt(double a) { return std::sqrt(a); }
__device__ __forceinline__ float tpk_d2f(double a) { return (float)a; }

__device__ __forceinline__ float tpk_f16_to_f32(u16 h) { return tpk_emu::f16_to_f32(h); }
__device__ __forceinline__ u16 tpk_f32_to_f16(float f) { return tpk_emu::f32_to_f16(f); }
__device__ __forceinline__ u16 tpk_f32_to_bf16(float f) { return tpk_emu::f32_to_bf16(f); }

__device__ __forceinline__ tpk_u32x4 tpk_ldg16(const void* p) {
    tpk_emu::check_global_alignment(p, 16, "ld.global.nc.v4");
    tpk_u32x4 v;
    std::memcpy(&v, p, 16);
    return v;
}

__device__ __forceinline__ tpk_u32x4 tpk_ldcg16(const void* p) {
    tpk_emu::check_global_alignment(p, 16, "ld.global.cg.v4");
    tpk_u32x4 v;
    std::memcpy(&v, p, 16);
    return v;
}
__device__ __forceinline__ float tpk_ldcg_f32(const float* p) {
    tpk_emu::check_global_alignment(p, 4, "ld.global.cg.f32");
    return *p;
}

// One launch runs on one OS thread, block after block in index order, so there is nothing to order and the
// counter needs no atomicity. A wait for a flag no earlier block published never ends here (on a GPU it might or
// might not): its bounded loop traps once the emulated %globaltimer has passed the bound (device.cpp).
__device__ __forceinline__ u32 tpk_arrive_inc(u32* p, u32 limit) {
    tpk_emu::check_global_alignment(p, 4, "atom.acq_rel.gpu.global.inc.u32");
    const u32 old = *p;
    *p = old >= limit ? 0 : old + 1;
    return old;
}
__device__ __forceinline__ u64 tpk_atomic_cas64(u64* p, u64 expected, u64 desired) {
    tpk_emu::check_global_alignment(p, 8, "atom.relaxed.gpu.global.cas.b64");
    const u64 old = *p;
    if (old == expected) *p = desired;
    return old;
}
__device__ __forceinline__ u64 tpk_globaltimer_ns() { return tpk_emu::globaltimer_ns(); }
// A poll: the other threads of the block run before it reads, so that one spinning on a flag lets the others
// progress (and the scheduler sees the spin).
__device__ __forceinline__ u32 tpk_load_acquire(const u32* flag) {
    tpk_emu::check_global_alignment(flag, 4, "ld.acquire.gpu.u32");
    tpk_emu::poll(flag);
    return *flag;
}
__device__ __forceinline__ void tpk_publish(u32* flag, u32 value) {
    tpk_emu::check_global_alignment(flag, 4, "st.release.gpu.u32");
    *flag = value;
}
[[noreturn]] __device__ __forceinline__ void tpk_trap() { tpk_emu::trap(); }

__device__ __forceinline__ unsigned char* tpk_dynamic_smem() { return tpk_emu::dynamic_smem(); }
__device__ __forceinline__ u32 smem_addr(const void* p) { return tpk_emu::shared_window_address(p); }

__device__ __forceinline__ void cp_async16(u32 dst, const void* src, bool pred) { tpk_emu::cp_async_queue(dst, src, pred); }
__device__ __forceinline__ void cp_async_commit() { tpk_emu::cp_async_commit_group(); }
template <int N>
__device__ __forceinline__ void cp_async_wait() { tpk_emu::cp_async_wait_groups(N); }

__device__ __forceinline__ void ldmatrix_x4(u32 (&r)[4], u32 addr) { tpk_emu::ldmatrix_x4(r, addr); }
__device__ __forceinline__ void ldmatrix_x4_trans(u32 (&r)[4], u32 addr) { tpk_emu::ldmatrix_x4_trans(r, addr); }

// Blocks run one after another on one OS thread: the reduction is a plain add.
__device__ __forceinline__ void tpk_red_add_f32(float* p, float v) {
    tpk_emu::check_global_alignment(p, 4, "red.global.add.f32");
    *p += v;
}

template <bool BF16>
__device__ __forceinline__ void mma_16816(float (&d)[4], const u32 (&a)[4], u32 b0, u32 b1) {
    tpk_emu::mma_16816(d, a, b0, b1, BF16);
}
