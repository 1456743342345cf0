// gemm_sm90.cu: the GEMM of gemm.cuh on Hopper's own units (sm_90a only): TMA loads, mbarriers, wgmma.
//   tpk_gemm_wgmma_<in>_<out>(out, bias, col_scale, T, K, R, valid, S, alpha, mapX, mapW, mapXA, mapB)
// computes exactly what the gemm.cuh bodies compute,
//
//   out[t, j] = c[j] * alpha * (sum_k X[t, k] * W[j, k]  +  sum_r XA[t, r] * B[j, r])  +  bias[j]   for j < valid
//   out[t, j] = -inf                                                                       for valid <= j < S
//
// for F16/BF16 inputs with K and R multiples of 8 (the TMA's 16-byte strides). The operands come as tensor
// maps (cuTensorMapEncodeTiled on the host, GemmCuda.java): X [T, K] and XA [T, R] with boxes of 64 x 128,
// W [valid, K] and B [valid, R] with boxes of 64 x 256, all with the 128-byte swizzle that wgmma reads.
//
// The fused LoRA linear with its shrink on chip (docs/contract.md section 8), for ranks R <= RB in {16, 32, 64}:
//   tpk_gemm_wgmma_lora<RB>_<in>_<out>(out, bias, col_scale, T, K, R, N, s, mapX, mapW, mapA, mapB)
//
//   out[t, j] = c[j] * (sum_k X[t, k] * W[j, k]  +  sum_r xa[t, r] * B[j, r])  +  bias[j],   xa = E(s * sum_k X[t, k] * A[r, k])
//
// with A [R, K] in boxes of 64 x RB (TMA zero-fills its rows R..RB-1, so xa's extra columns are exact zeros) and
// xa rounded to the input type E, as the two-launch form (the shrink GEMM, then this kernel with XA) rounds it.
// Each k-tile of X in shared memory feeds two wgmma chains: the base product's m64n256k16 and the shrink's
// m64nRBk16 on the k-tile of A beside it; once K is done, xa goes from the shrink's accumulators straight into
// the A registers of R/16 more m64n256k16 against B's tile (the accumulator fragment of an m64n16 is the
// register-A fragment of a k16 step, tpk_ptx_sm90.cuh). So xa never leaves the registers, y is written once,
// and the price is the shrink's RB/256 more tensor work on every tile (6% at RB = 16) and a drained pipeline
// before the expand (one k-tile in K/64).
//
// One block owns a 128 x 256 tile of out and runs three warpgroups:
//   warpgroup 0, the producer: one thread streams the k-tiles (64 wide: the base product's K/64, then LoRA's
//     R/64) through a ring of 4 shared-memory stages; each stage is an X tile and a W tile (48 KB; with the
//     shrink on chip an A tile too, then B's tile alone) that TMA writes and counts down on the stage's
//     "full" mbarrier. It waits on the stage's "empty" mbarrier first.
//   warpgroups 1 and 2, the consumers: each owns 64 rows of the tile, waits on "full", issues 4 wgmma
//     m64n256k16 (the stage's 64 k; with the shrink on chip 4 m64nRBk16 beside them, into RB/2 more f32 per
//     thread), keeps one stage's wgmma in flight (wait_group 1) and then frees the stage before it on
//     "empty". With the shrink on chip they then drain (wait_group 0), pack xa, wait for B's tile and issue
//     the RB/16 register-A wgmma of the expand. The accumulators (128 f32 per thread) are written once, by the
//     epilogue.
// TMA zero-fills outside the tensors, so ragged T, valid, K and R need no masking in the main loop; the
// epilogue masks the stores and writes -inf for padding columns (tiles that are all padding never touch W).
// Blocks are ordered in groups of GROUP_M row tiles, so that the blocks resident at once share X and W
// tiles in L2 instead of streaming all of W per wave of blocks.
//
// Versions: v1 (this): 128x256x64, 4 stages, 2 consumer warpgroups, direct stores from registers; not yet
// run on a GPU. Its LoRA form with the shrink on chip (session 7) is built on v1 only. v2 (gemm_sm90_pingpong.cu): a persistent grid whose two consumers take turns, each epilogue
// overlapping the other's main loop. Next once measured: stores staged through shared memory.

// tpk-arch: compute_90a
// tpk-kernels: tpk_gemm_wgmma_{bf16,f16}_{f32,bf16,f16} tpk_gemm_wgmma_lora{16,32,64}_{bf16,f16}_{f32,bf16,f16}

#include "gemm_sm90.cuh"

namespace wg {
constexpr int BM = TPK_SM90_V1_BM;             // tokens per block: 64 per consumer warpgroup
constexpr int BN = TPK_SM90_V1_BN;             // output columns per block: one wgmma N
constexpr int BK = TPK_SM90_BK;                // k per stage: one 128-byte swizzled row
constexpr int STAGES = TPK_SM90_V1_STAGES;
constexpr int CONSUMERS = TPK_SM90_CONSUMERS;  // warpgroups
constexpr int THREADS = TPK_SM90_THREADS;
constexpr int GROUP_M = 16;                    // row tiles per group of the block order
constexpr int A_BYTES = BM * BK * 2;
constexpr int B_BYTES = BN * BK * 2;
constexpr int ALIGN = TPK_SM90_ALIGN;          // the 128-byte swizzle repeats every 8 rows of 128 bytes
// A stage: the X tile, the W tile (or XA's and B's), and with the shrink on chip (RB > 0) A's RB x 64 tile.
__host__ __device__ constexpr int stage_bytes(int rb) { return A_BYTES + B_BYTES + rb * BK * 2; }
// The launch's dynamic shared memory (what the host passes): the stages, 2 mbarriers per stage, and slack to
// align the stages.
__host__ __device__ constexpr int smem_bytes(int rb) {
    return TPK_SM90_V1_SMEM_BYTES + rb * TPK_SM90_V1_SMEM_BYTES_PER_RANK;
}
static_assert(THREADS == 128 * (1 + CONSUMERS), "a producer warpgroup and the consumers");
static_assert(smem_bytes(0) == STAGES * stage_bytes(0) + 2 * STAGES * 8 + ALIGN &&
                  smem_bytes(64) == STAGES * stage_bytes(64) + 2 * STAGES * 8 + ALIGN,
              "the layout gemm_wgmma uses: the stages, then the mbarriers");
constexpr int PRODUCER_REGS = 40;              // setmaxnreg: 128 x 40 + 256 x 232 <= 65536
constexpr int CONSUMER_REGS = 232;
static_assert(smem_bytes(64) <= 232448, "over the 227 KB of shared memory a Hopper block may opt into");
}  // namespace wg

// Two elements of type E in one 32-bit register, the first in the lower half (a wgmma A-fragment register).
template <typename E>
__device__ __forceinline__ u32 pack_pair(float lo, float hi) {
    return (u32)E::from_f32(lo) | ((u32)E::from_f32(hi) << 16);
}

// RB = 0: the GEMM of gemm.cuh (map_xa is XA [T, R], LoRA's shrink already done, or unused with R = 0).
// RB > 0: the LoRA linear with its shrink on chip (map_xa is A [R, K], R <= RB; g.alpha is 1; xa = E(s·x·Aᵀ)).
template <int RB, typename E, typename O>
__device__ __forceinline__ void gemm_wgmma(const GemmArgs<E, O>& g, float s_lora, const tpk_tensor_map& map_x,
                                           const tpk_tensor_map& map_w, const tpk_tensor_map& map_xa,
                                           const tpk_tensor_map& map_b) {
    using namespace wg;
    static_assert(RB == 0 || RB == 16 || RB == 32 || RB == 64, "the shrink's wgmma N: 16, 32 or 64");
    constexpr int STAGE_BYTES = stage_bytes(RB);
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

    const u32 base = sm90_aligned_smem(ALIGN);  // stage s at base + s*STAGE_BYTES: X tile, W tile, A tile
    const u32 bars = base + STAGES * STAGE_BYTES;              // full[s] at bars + 8s, empty[s] at bars + 8(STAGES+s)
    auto full = [&](int s) { return bars + 8 * s; };
    auto empty = [&](int s) { return bars + 8 * (STAGES + s); };

    const int k_tiles = (g.K + BK - 1) / BK;  // the base product's k-tiles (and the on-chip shrink's)
    // then LoRA's expand into the same accumulators: R/64 k-tiles of XA and B, or with the shrink on chip one of B
    const int tiles = k_tiles + (RB > 0 ? 1 : (g.R + BK - 1) / BK);

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
                const u32 stage = base + s * STAGE_BYTES;
                mbar_wait(empty(s), ((kt / STAGES) & 1) ^ 1);  // the first round passes: the ring starts empty
                if (kt < k_tiles) {
                    mbar_arrive_expect_tx(full(s), STAGE_BYTES);
                    tma_load_2d(stage, &map_x, kt * BK, m0, full(s));
                    tma_load_2d(stage + A_BYTES, &map_w, kt * BK, (int)n0, full(s));
                    if (RB > 0) tma_load_2d(stage + A_BYTES + B_BYTES, &map_xa, kt * BK, 0, full(s));
                } else if (RB > 0) {  // B's R <= 64 columns, in the W tile's place
                    mbar_arrive_expect_tx(full(s), B_BYTES);
                    tma_load_2d(stage + A_BYTES, &map_b, 0, (int)n0, full(s));
                } else {
                    const int k0 = (kt - k_tiles) * BK;
                    mbar_arrive_expect_tx(full(s), A_BYTES + B_BYTES);
                    tma_load_2d(stage, &map_xa, k0, m0, full(s));
                    tma_load_2d(stage + A_BYTES, &map_b, k0, (int)n0, full(s));
                }
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
    float xacc[RB > 0 ? RB / 2 : 1];  // the shrink's m64nRB accumulators: x·Aᵀ for this warpgroup's 64 rows
#pragma unroll
    for (int i = 0; i < (RB > 0 ? RB / 2 : 1); i++) xacc[i] = 0.f;

    // With the shrink on chip this loop covers K only; B's tile comes after it.
    const int streamed = RB > 0 ? k_tiles : tiles;
    for (int kt = 0; kt < streamed; kt++) {
        const int s = kt % STAGES;
        mbar_wait(full(s), (kt / STAGES) & 1);
        const u32 a_tile = base + s * STAGE_BYTES + c * 64 * BK * 2;
        const u32 b_tile = base + s * STAGE_BYTES + A_BYTES;
        const u32 lora_tile = base + s * STAGE_BYTES + A_BYTES + B_BYTES;
        wgmma_fence_operand(acc);
        if (RB > 0) wgmma_fence_operand(xacc);
        wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < BK / 16; kk++) {
            const u64 x_desc = wgmma_desc_k_sw128(a_tile + kk * 32);
            wgmma_m64nNk16<256, BF16>(acc, x_desc, wgmma_desc_k_sw128(b_tile + kk * 32), 1);
            if constexpr (RB > 0) wgmma_m64nNk16<RB, BF16>(xacc, x_desc, wgmma_desc_k_sw128(lora_tile + kk * 32), 1);
        }
        wgmma_commit();
        wgmma_fence_operand(acc);
        if (RB > 0) wgmma_fence_operand(xacc);
        wgmma_wait<1>();  // the previous stage's wgmma are done: free its buffers
        wgmma_fence_operand(acc);
        if (RB > 0) wgmma_fence_operand(xacc);
        if (kt > 0 && threadIdx.x % 128 == 0) mbar_arrive(empty((kt - 1) % STAGES));
    }
    wgmma_wait<0>();
    wgmma_fence_operand(acc);  // the reads below stay after the wait

    if constexpr (RB > 0) {
        wgmma_fence_operand(xacc);
        // xa = E(s·x·Aᵀ), as A fragments: k16 step kk of the expand takes xacc[8kk .. 8kk+7] in pairs. Kept
        // unchanged until the wait below retires the wgmma that read them.
        u32 xa[RB / 16][4];
#pragma unroll
        for (int kk = 0; kk < RB / 16; kk++) {
#pragma unroll
            for (int j = 0; j < 4; j++) {
                xa[kk][j] = pack_pair<E>(s_lora * xacc[8 * kk + 2 * j], s_lora * xacc[8 * kk + 2 * j + 1]);
            }
        }
        const int s = k_tiles % STAGES;
        mbar_wait(full(s), (k_tiles / STAGES) & 1);
        const u32 b_tile = base + s * STAGE_BYTES + A_BYTES;
#pragma unroll
        for (int kk = 0; kk < RB / 16; kk++) wgmma_fence_operand(xa[kk]);
        wgmma_fence();  // orders the writes of xa (and the reads of acc above) before the wgmma
#pragma unroll
        for (int kk = 0; kk < RB / 16; kk++) {
            wgmma_m64n256k16_rs<BF16>(acc, xa[kk], wgmma_desc_k_sw128(b_tile + kk * 32), 1);
        }
        wgmma_commit();
        wgmma_fence_operand(acc);
        wgmma_wait<0>();
        wgmma_fence_operand(acc);
#pragma unroll
        for (int kk = 0; kk < RB / 16; kk++) wgmma_fence_operand(xa[kk]);  // read by the wgmma until the wait
    }

    sm90_store_fragment(g, acc, m0 + c * 64, n0);
}

// The GEMM (RB = 0), through the shared entry of gemm_sm90.cuh.
template <typename E, typename O>
__device__ __forceinline__ void gemm_wgmma_xa(const GemmArgs<E, O>& g, const tpk_tensor_map& map_x,
                                              const tpk_tensor_map& map_w, const tpk_tensor_map& map_xa,
                                              const tpk_tensor_map& map_b) {
    gemm_wgmma<0>(g, 1.f, map_x, map_w, map_xa, map_b);
}

#define TPK_WGMMA_KERNEL(SUFFIX, E, O) TPK_SM90_GEMM_KERNEL(tpk_gemm_wgmma_##SUFFIX, wg::THREADS, gemm_wgmma_xa, E, O)
TPK_SM90_GEMM_DTYPES(TPK_WGMMA_KERNEL)

// The LoRA linear with its shrink on chip, for ranks up to RB: y = c ⊙ (x·Wᵀ + E(s·x·Aᵀ)·Bᵀ) + bias, y [T, N].
#define TPK_WGMMA_LORA_RANK(RB, SUFFIX, E, O)                                                                    \
    extern "C" __global__ void __launch_bounds__(wg::THREADS, 1) tpk_gemm_wgmma_lora##RB##_##SUFFIX(            \
        O::T* out, const E::T* bias, const float* col_scale, int T, int K, int R, long long N, float s,         \
        const __grid_constant__ tpk_tensor_map map_x, const __grid_constant__ tpk_tensor_map map_w,              \
        const __grid_constant__ tpk_tensor_map map_a, const __grid_constant__ tpk_tensor_map map_b) {            \
        gemm_wgmma<RB>(GemmArgs<E, O>{out, nullptr, nullptr, nullptr, nullptr, bias, col_scale, T, K, R, N, N,   \
                                      1.f},                                                                      \
                       s, map_x, map_w, map_a, map_b);                                                           \
    }
#define TPK_WGMMA_LORA_KERNELS(SUFFIX, E, O) \
    TPK_WGMMA_LORA_RANK(16, SUFFIX, E, O)    \
    TPK_WGMMA_LORA_RANK(32, SUFFIX, E, O)    \
    TPK_WGMMA_LORA_RANK(64, SUFFIX, E, O)
TPK_SM90_GEMM_DTYPES(TPK_WGMMA_LORA_KERNELS)
