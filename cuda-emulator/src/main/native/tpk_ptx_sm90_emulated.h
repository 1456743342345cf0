// tpk_ptx_sm90_emulated.h: host implementations of the Hopper primitives of tpk_ptx_sm90.cuh (mbarriers, TMA,
// setmaxnreg, wgmma), from the PTX ISA's definitions. Included by tpk_ptx_sm90.cuh when TPK_EMULATION is
// defined; never part of the PTX build. The work is done in device_sm90.cpp, which also checks every rule the
// PTX ISA states for them (see there).
#pragma once

namespace tpk_emu {

void mbar_init(u32 bar, u32 count);
void mbar_fence_init();
void mbar_arrive(u32 bar);
void mbar_arrive_expect_tx(u32 bar, u32 bytes);
bool mbar_try_wait(u32 bar, u32 parity);
void tma_load_2d(u32 dst, const void* map, int c0, int c1, u32 bar);
void setmaxnreg(bool increase, int registers);
void wgmma_fence();
void wgmma_commit();
void wgmma_wait(int pending);
void wgmma_m64nNk16(float* d, int n, u64 desc_a, u64 desc_b, int scale_d, bool bf16);
// A from the registers a[0..3] of each thread (the m64n16 accumulator layout, two 16-bit elements per register).
void wgmma_m64nNk16_rs(float* d, int n, const u32* a, u64 desc_b, int scale_d, bool bf16);

}  // namespace tpk_emu

__device__ __forceinline__ void mbar_init(u32 bar, u32 count) { tpk_emu::mbar_init(bar, count); }
__device__ __forceinline__ void mbar_fence_init() { tpk_emu::mbar_fence_init(); }
__device__ __forceinline__ void mbar_arrive(u32 bar) { tpk_emu::mbar_arrive(bar); }
__device__ __forceinline__ void mbar_arrive_expect_tx(u32 bar, u32 bytes) { tpk_emu::mbar_arrive_expect_tx(bar, bytes); }
__device__ __forceinline__ bool mbar_try_wait(u32 bar, u32 parity) { return tpk_emu::mbar_try_wait(bar, parity); }

__device__ __forceinline__ void tma_load_2d(u32 dst, const tpk_tensor_map* map, int c0, int c1, u32 bar) {
    tpk_emu::tma_load_2d(dst, map, c0, c1, bar);
}

// PTX ISA, setmaxnreg: the count is an immediate in 24..256, a multiple of 8.
template <int N>
__device__ __forceinline__ void setmaxnreg_dec() {
    static_assert(N >= 24 && N <= 256 && N % 8 == 0, "setmaxnreg takes a multiple of 8 in 24..256");
    tpk_emu::setmaxnreg(false, N);
}
template <int N>
__device__ __forceinline__ void setmaxnreg_inc() {
    static_assert(N >= 24 && N <= 256 && N % 8 == 0, "setmaxnreg takes a multiple of 8 in 24..256");
    tpk_emu::setmaxnreg(true, N);
}

__device__ __forceinline__ void wgmma_fence() { tpk_emu::wgmma_fence(); }
__device__ __forceinline__ void wgmma_commit() { tpk_emu::wgmma_commit(); }
template <int N>
__device__ __forceinline__ void wgmma_wait() {
    static_assert(N >= 0, "wgmma.wait_group takes a non-negative immediate");
    tpk_emu::wgmma_wait(N);
}

// A compiler-ordering device of the PTX build: here every primitive is an opaque call, already in order.
template <int N>
__device__ __forceinline__ void wgmma_fence_operand(float (&)[N]) {}
template <int N>
__device__ __forceinline__ void wgmma_fence_operand(u32 (&)[N]) {}

template <int N, bool BF16>
__device__ __forceinline__ void wgmma_m64nNk16(float (&d)[N / 2], u64 desc_a, u64 desc_b, int scale_d) {
    static_assert(N == 16 || N == 32 || N == 64 || N == 128 || N == 256, "the wgmma shapes the kernels use");
    tpk_emu::wgmma_m64nNk16(d, N, desc_a, desc_b, scale_d, BF16);
}

template <bool BF16>
__device__ __forceinline__ void wgmma_m64n256k16_rs(float (&d)[128], const u32 (&a)[4], u64 desc_b, int scale_d) {
    tpk_emu::wgmma_m64nNk16_rs(d, 256, a, desc_b, scale_d, BF16);
}
