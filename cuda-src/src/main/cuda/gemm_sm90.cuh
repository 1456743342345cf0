// gemm_sm90.cuh: what the two Hopper GEMMs (gemm_sm90.cu, gemm_sm90_pingpong.cu) share: the order of their output
// tiles, where their stages start in shared memory, and the epilogue of a wgmma accumulator fragment.
#pragma once
#include "gemm.cuh"
#include "tpk_ptx_sm90.cuh"

// (row tile, column tile) of tile `index`: group_m row tiles at a time, columns fastest within a group, so that
// the tiles in flight at once across the GPU share X and W tiles in L2 instead of streaming all of W per wave.
__device__ __forceinline__ void sm90_tile_of(int index, int tiles_m, int tiles_n, int group_m, int& tm, int& tn) {
    const int per_group = group_m * tiles_n;
    const int first_m = (index / per_group) * group_m;
    const int rows = min(tiles_m - first_m, group_m);
    const int in_group = index % per_group;
    tm = first_m + in_group % rows;
    tn = in_group / rows;
}

// The shared-window address of the dynamic shared memory rounded up to `align` bytes (the 128-byte swizzle repeats
// every 1024 bytes, and TMA and the wgmma descriptors assume its pattern starts at the tile).
__device__ __forceinline__ u32 sm90_aligned_smem(u32 align) {
    const u32 raw = smem_addr(tpk_dynamic_smem());
    return (raw + align - 1) / align * align;
}

// Stores the 64 x 2H accumulators of one m64n(2H)k16 chain of this warpgroup, rows from t0, columns from n0,
// through gemm_store (alpha, column scale, bias, -inf padding, clipped to out). PTX ISA fragment layout:
// accumulator 4i + q of lane l in warp w is row 16w + l/4 + 8(q/2), column 8i + 2(l%4) + q%2.
template <int H, typename E, typename O>
__device__ __forceinline__ void sm90_store_fragment(const GemmArgs<E, O>& g, const float (&acc)[H], long long t0,
                                                    long long n0) {
    const int w = (threadIdx.x % 128) / 32, lane = threadIdx.x % 32;
    const long long t = t0 + w * 16 + lane / 4;
#pragma unroll
    for (int i = 0; i < H / 4; i++) {
        const long long j = n0 + 8 * i + 2 * (lane % 4);
        gemm_store(g, t, j, acc[4 * i]);
        gemm_store(g, t, j + 1, acc[4 * i + 1]);
        gemm_store(g, t + 8, j, acc[4 * i + 2]);
        gemm_store(g, t + 8, j + 1, acc[4 * i + 3]);
    }
}

// The kernel entry NAME(out, bias, col_scale, T, K, R, valid, S, alpha, mapX, mapW, mapXA, mapB) of a Hopper GEMM
// body BODY(GemmArgs<E, O>, mapX, mapW, mapXA, mapB), for one block of THREADS threads per SM.
#define TPK_SM90_GEMM_KERNEL(NAME, THREADS, BODY, E, O)                                                     \
    extern "C" __global__ void __launch_bounds__(THREADS, 1) NAME(                                          \
        O::T* out, const E::T* bias, const float* col_scale, int T, int K, int R, long long valid,           \
        long long S, float alpha, const __grid_constant__ tpk_tensor_map map_x,                              \
        const __grid_constant__ tpk_tensor_map map_w, const __grid_constant__ tpk_tensor_map map_xa,          \
        const __grid_constant__ tpk_tensor_map map_b) {                                                      \
        BODY(GemmArgs<E, O>{out, nullptr, nullptr, nullptr, nullptr, bias, col_scale, T, K, R, valid, S,     \
                            alpha},                                                                          \
             map_x, map_w, map_xa, map_b);                                                                   \
    }

// DEFINE(suffix, E, O) for every (input, output) pair the Hopper GEMMs are built for.
#define TPK_SM90_GEMM_DTYPES(DEFINE)    \
    DEFINE(bf16_f32, TpkBF16, TpkF32)   \
    DEFINE(bf16_bf16, TpkBF16, TpkBF16) \
    DEFINE(bf16_f16, TpkBF16, TpkF16)   \
    DEFINE(f16_f32, TpkF16, TpkF32)     \
    DEFINE(f16_bf16, TpkF16, TpkBF16)   \
    DEFINE(f16_f16, TpkF16, TpkF16)
