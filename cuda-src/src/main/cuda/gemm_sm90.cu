// gemm_sm90.cu: the GEMM of gemm.cuh on Hopper's own units (sm_90a only): TMA loads, mbarriers, wgmma.
//   tpk_gemm_wgmma_<in>_<out>(out, bias, T, K, R, valid, S, alpha, mapX, mapW, mapXA, mapB)
// computes exactly what the gemm.cuh bodies compute,
//
//   out[t, j] = alpha * (sum_k X[t, k] * W[j, k]  +  sum_r XA[t, r] * B[j, r])  +  bias[j]   for j < valid
//   out[t, j] = -inf                                                                for valid <= j < S
//
// for F16/BF16 inputs with K and R multiples of 8 (the TMA's 16-byte strides). The operands come as tensor
// maps (cuTensorMapEncodeTiled on the host, GemmCuda.java): X [T, K] and XA [T, R] with boxes of 64 x 128,
// W [valid, K] and B [valid, R] with boxes of 64 x 256, all with the 128-byte swizzle that wgmma reads.
//
// One block owns a 128 x 256 tile of out and runs three warpgroups:
//   warpgroup 0, the producer: one thread streams the k-tiles (64 wide: the base product's K/64, then LoRA's
//     R/64) through a ring of 4 shared-memory stages; each stage is an X tile and a W tile (48 KB) that TMA
//     writes and counts down on the stage's "full" mbarrier. It waits on the stage's "empty" mbarrier first.
//   warpgroups 1 and 2, the consumers: each owns 64 rows of the tile, waits on "full", issues 4 wgmma
//     m64n256k16 (the stage's 64 k), keeps one stage's wgmma in flight (wait_group 1) and then frees the
//     stage before it on "empty". The accumulators (128 f32 per thread) are written once, by the epilogue.
// TMA zero-fills outside the tensors, so ragged T, valid, K and R need no masking in the main loop; the
// epilogue masks the stores and writes -inf for padding columns (tiles that are all padding never touch W).
// Blocks are ordered in groups of GROUP_M row tiles, so that the blocks resident at once share X and W
// tiles in L2 instead of streaming all of W per wave of blocks.
//
// Versions: v1 (this): 128x256x64, 4 stages, 2 consumer warpgroups, direct stores from registers; not yet
// run on a GPU. v2 (gemm_sm90_pingpong.cu): a persistent grid whose two consumers take turns, each epilogue
// overlapping the other's main loop. Next once measured: stores staged through shared memory.

// tpk-arch: compute_90a

#include "gemm_sm90.cuh"

namespace wg {
constexpr int BM = 128;           // tokens per block: 64 per consumer warpgroup
constexpr int BN = 256;           // output columns per block: one wgmma N
constexpr int BK = 64;            // k per stage: one 128-byte swizzled row
constexpr int STAGES = 4;
constexpr int CONSUMERS = 2;      // warpgroups
constexpr int THREADS = 128 * (1 + CONSUMERS);
constexpr int GROUP_M = 16;       // row tiles per group of the block order
constexpr int A_BYTES = BM * BK * 2;
constexpr int B_BYTES = BN * BK * 2;
constexpr int STAGE_BYTES = A_BYTES + B_BYTES;
constexpr int ALIGN = 1024;       // the 128-byte swizzle repeats every 8 rows of 128 bytes
// The launch's dynamic shared memory: the stages, 2 mbarriers per stage, and slack to align the stages.
constexpr int SMEM_BYTES = STAGES * STAGE_BYTES + 2 * STAGES * 8 + ALIGN;
constexpr int PRODUCER_REGS = 40;  // setmaxnreg: 128 x 40 + 256 x 232 <= 65536
constexpr int CONSUMER_REGS = 232;
static_assert(SMEM_BYTES <= 232448, "over the 227 KB of shared memory a Hopper block may opt into");
}  // namespace wg

template <typename E, typename O>
__device__ __forceinline__ void gemm_wgmma(const GemmArgs<E, O>& g, const tpk_tensor_map& map_x,
                                           const tpk_tensor_map& map_w, const tpk_tensor_map& map_xa,
                                           const tpk_tensor_map& map_b) {
    using namespace wg;
    const int tiles_m = (g.T + BM - 1) / BM;
    const int tiles_n = (int)((g.S + BN - 1) / BN);
    int tm, tn;
    sm90_tile_of(blockIdx.x, tiles_m, tiles_n, GROUP_M, tm, tn);
    const int m0 = tm * BM;
    const long long n0 = (long long)tn * BN;
    if (n0 >= g.valid) {  // all padding: -inf, and W is never touched
        gemm_fill_padding(g, m0, BM, n0, BN);
        return;
    }

    const u32 base = sm90_aligned_smem(ALIGN);  // stage s: X tile at base + s*STAGE_BYTES, W after it
    const u32 bars = base + STAGES * STAGE_BYTES;              // full[s] at bars + 8s, empty[s] at bars + 8(STAGES+s)
    auto full = [&](int s) { return bars + 8 * s; };
    auto empty = [&](int s) { return bars + 8 * (STAGES + s); };

    const int k_tiles = (g.K + BK - 1) / BK;          // the base product's k-tiles
    const int tiles = k_tiles + (g.R + BK - 1) / BK;  // then LoRA's expand, into the same accumulators

    if (threadIdx.x == 0) {
        for (int s = 0; s < STAGES; s++) {
            mbar_init(full(s), 1);           // the producer's arrive_expect_tx, then TMA's bytes
            mbar_init(empty(s), CONSUMERS);  // one arrival per consumer warpgroup
        }
        mbar_fence_init();
    }
    __syncthreads();

    const int warpgroup = threadIdx.x / 128;
    if (warpgroup == 0) {
        setmaxnreg_dec<PRODUCER_REGS>();
        if (threadIdx.x == 0) {
            for (int kt = 0; kt < tiles; kt++) {
                const int s = kt % STAGES;
                mbar_wait(empty(s), ((kt / STAGES) & 1) ^ 1);  // the first round passes: the ring starts empty
                const bool lora = kt >= k_tiles;
                const int k0 = (lora ? kt - k_tiles : kt) * BK;
                mbar_arrive_expect_tx(full(s), STAGE_BYTES);
                tma_load_2d(base + s * STAGE_BYTES, lora ? &map_xa : &map_x, k0, m0, full(s));
                tma_load_2d(base + s * STAGE_BYTES + A_BYTES, lora ? &map_b : &map_w, k0, (int)n0, full(s));
            }
        }
        return;
    }

    setmaxnreg_inc<CONSUMER_REGS>();
    constexpr bool BF16 = E::IS_BF16;
    const int c = warpgroup - 1;  // this warpgroup's 64 rows: m0 + 64c ..
    float acc[128];
#pragma unroll
    for (int i = 0; i < 128; i++) acc[i] = 0.f;

    for (int kt = 0; kt < tiles; kt++) {
        const int s = kt % STAGES;
        mbar_wait(full(s), (kt / STAGES) & 1);
        const u32 a_tile = base + s * STAGE_BYTES + c * 64 * BK * 2;
        const u32 b_tile = base + s * STAGE_BYTES + A_BYTES;
        wgmma_fence_operand(acc);
        wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < BK / 16; kk++) {
            wgmma_m64n256k16<BF16>(acc, wgmma_desc_k_sw128(a_tile + kk * 32), wgmma_desc_k_sw128(b_tile + kk * 32), 1);
        }
        wgmma_commit();
        wgmma_fence_operand(acc);
        wgmma_wait<1>();  // the previous stage's wgmma are done: free its buffers
        wgmma_fence_operand(acc);
        if (kt > 0 && threadIdx.x % 128 == 0) mbar_arrive(empty((kt - 1) % STAGES));
    }
    wgmma_wait<0>();
    wgmma_fence_operand(acc);  // the epilogue's reads stay after the wait

    sm90_store_fragment(g, acc, m0 + c * 64, n0);
}

#define TPK_WGMMA_KERNEL(SUFFIX, E, O) TPK_SM90_GEMM_KERNEL(tpk_gemm_wgmma_##SUFFIX, wg::THREADS, gemm_wgmma, E, O)
TPK_SM90_GEMM_DTYPES(TPK_WGMMA_KERNEL)
