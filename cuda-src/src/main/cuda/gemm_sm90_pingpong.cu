// gemm_sm90_pingpong.cu: v2 of the Hopper GEMM (gemm_sm90.cu is v1): persistent, with two consumer warpgroups
// that take turns on the tensor cores ("ping-pong"), so that one's epilogue runs while the other multiplies.
//   tpk_gemm_wgmma_pp_<in>_<out>(out, bias, col_scale, T, K, R, valid, S, alpha, mapX, mapW, mapXA, mapB)
// computes what v1 and the gemm.cuh bodies compute,
//
//   out[t, j] = c[j] * alpha * (sum_k X[t, k] * W[j, k]  +  sum_r XA[t, r] * B[j, r])  +  bias[j]   for j < valid
//   out[t, j] = -inf                                                                       for valid <= j < S
//
// for F16/BF16 inputs with K and R multiples of 8, from tensor maps (GemmCuda.java) with boxes of 64 k x 128 rows
// for all four operands, 128-byte swizzled.
//
// The grid is min(tiles, SMs) blocks of three warpgroups; block b takes the 128 x 128 output tiles b, b + grid,
// b + 2 grid, ... in v1's GROUP_M order (its "local" tiles 0, 1, 2, ...):
//   warpgroup 0, the producer: one thread streams the k-tiles of every local tile in turn (the base product's K/64,
//     then LoRA's R/64; all-padding tiles have none) through a ring of STAGES stages of an X and a W tile (32 KB).
//     The ring position counts on across tiles: k-tile p of the block goes to stage p % STAGES, and its phase is
//     p / STAGES, on the stage's "full" (TMA's bytes) and "empty" (the consumer is done) mbarriers.
//   warpgroups 1 and 2, the consumers: consumer c takes the local tiles i with i % 2 == c, and computes each
//     128 x 128 tile alone (two m64n128k16 per 16 k, 128 f32 accumulators per thread, as v1's 64 x 256), frees
//     each stage as soon as its wgmma are retired, then stores the tile from registers as v1 does.
// The consumers' main loops alternate: a consumer waits for its turn (an mbarrier the other one arrives on after
// issuing its tile's last wgmma) before its first wait on "full", then passes the turn on and runs its epilogue
// while the other multiplies. The turn is also what makes the ring's parity waits exact: a consumer reaches
// position p only after the other has waited for every position before p, so the phase of p's stage it waits for
// is the next one to complete, never one a full ring earlier (a parity wait cannot tell those apart).
// TMA zero-fills outside the tensors, so ragged T, valid, K and R need no masking in the main loop; the epilogue
// masks the stores and writes -inf for padding columns (tiles that are all padding never touch W).
//
// Versions: v2 (this), not yet run on a GPU: see PERF-NOTES.md for the prediction against v1.

// tpk-arch: compute_90a
// tpk-kernels: tpk_gemm_wgmma_pp_{bf16,f16}_{f32,bf16,f16}

#include "gemm_sm90.cuh"

namespace pp {
constexpr int BM = TPK_SM90_PP_BM;                // rows of a tile: two m64 wgmma
constexpr int BN = TPK_SM90_PP_BN;                // columns of a tile: the wgmma's N
constexpr int BK = TPK_SM90_BK;                   // k per stage: one 128-byte swizzled row
constexpr int STAGES = TPK_SM90_PP_STAGES;
constexpr int CONSUMERS = TPK_SM90_CONSUMERS;     // warpgroups, taking turns
constexpr int THREADS = TPK_SM90_THREADS;
constexpr int GROUP_M = 16;                       // row tiles per group of the tile order (v1's)
constexpr int A_BYTES = BM * BK * 2;
constexpr int B_BYTES = BN * BK * 2;
constexpr int STAGE_BYTES = A_BYTES + B_BYTES;
constexpr int ALIGN = TPK_SM90_ALIGN;             // the 128-byte swizzle repeats every 8 rows of 128 bytes
constexpr int BARRIERS = 2 * STAGES + CONSUMERS;  // full and empty per stage, a turn per consumer
// The launch's dynamic shared memory (what the host passes): the stages, the mbarriers, and slack to align the
// stages.
constexpr int SMEM_BYTES = TPK_SM90_PP_SMEM_BYTES;
static_assert(THREADS == 128 * (1 + CONSUMERS), "a producer warpgroup and the consumers");
static_assert(SMEM_BYTES == STAGES * STAGE_BYTES + 8 * BARRIERS + ALIGN, "the layout PpRing uses");
constexpr int PRODUCER_REGS = 40;                 // setmaxnreg: 128 x 40 + 256 x 232 <= 65536
constexpr int CONSUMER_REGS = 232;
static_assert(SMEM_BYTES <= 232448, "over the 227 KB of shared memory a Hopper block may opt into");
}  // namespace pp

// The stages and mbarriers in shared memory, by ring position p (k-tiles of this block since it started).
struct PpRing {
    u32 base;  // stage s: X tile at base + s*STAGE_BYTES, W tile after it
    __device__ u32 x_tile(int p) const { return base + (p % pp::STAGES) * pp::STAGE_BYTES; }
    __device__ u32 w_tile(int p) const { return x_tile(p) + pp::A_BYTES; }
    __device__ u32 bar(int i) const { return base + pp::STAGES * pp::STAGE_BYTES + 8 * i; }
    __device__ u32 full(int p) const { return bar(p % pp::STAGES); }
    __device__ u32 empty(int p) const { return bar(pp::STAGES + p % pp::STAGES); }
    __device__ u32 turn(int c) const { return bar(2 * pp::STAGES + c); }
    // The parity of the phase that position p completes on its stage's barriers.
    __device__ static u32 phase(int p) { return (p / pp::STAGES) & 1; }
};

// An output tile: where it starts, and whether all its columns are padding (then it has no k-tiles).
struct PpTile {
    int m0;
    long long n0;
    bool padding;
};

template <typename E, typename O>
__device__ __forceinline__ PpTile pp_tile(const GemmArgs<E, O>& g, int index, int tiles_m, int tiles_n) {
    int tm, tn;
    sm90_tile_of(index, tiles_m, tiles_n, pp::GROUP_M, tm, tn);
    const long long n0 = (long long)tn * pp::BN;
    return PpTile{tm * pp::BM, n0, n0 >= g.valid};
}

// The producer's thread: every k-tile of every local tile into the ring, in the order the consumers take them.
template <typename E, typename O>
__device__ __forceinline__ void pp_produce(const GemmArgs<E, O>& g, const PpRing& ring, int tiles_m, int tiles_n,
                                           int k_tiles, int r_tiles, const tpk_tensor_map& map_x,
                                           const tpk_tensor_map& map_w, const tpk_tensor_map& map_xa,
                                           const tpk_tensor_map& map_b) {
    int p = 0;
    for (int index = blockIdx.x; index < tiles_m * tiles_n; index += gridDim.x) {
        const PpTile tile = pp_tile(g, index, tiles_m, tiles_n);
        if (tile.padding) continue;
        for (int kt = 0; kt < k_tiles + r_tiles; kt++, p++) {
            mbar_wait(ring.empty(p), PpRing::phase(p) ^ 1);  // the ring's first round passes: it starts empty
            const bool lora = kt >= k_tiles;
            const int k0 = (lora ? kt - k_tiles : kt) * pp::BK;
            mbar_arrive_expect_tx(ring.full(p), pp::STAGE_BYTES);
            tma_load_2d(ring.x_tile(p), lora ? &map_xa : &map_x, k0, tile.m0, ring.full(p));
            tma_load_2d(ring.w_tile(p), lora ? &map_b : &map_w, k0, (int)tile.n0, ring.full(p));
        }
    }
}

// Waits until consumer c may start its `turns`-th main loop: consumer 0's first passes at once (parity 1 of a
// fresh barrier), every other one waits for the other consumer's arrival after its previous main loop.
__device__ __forceinline__ void pp_wait_turn(const PpRing& ring, int c, int turns) {
    mbar_wait(ring.turn(c), (u32)(turns & 1) ^ (c == 0 ? 1u : 0u));
}

// Hands the tensor cores to the other consumer (one thread of the warpgroup arrives; the turn barriers count 1).
__device__ __forceinline__ void pp_pass_turn(const PpRing& ring, int c) {
    if (threadIdx.x % 128 == 0) mbar_arrive(ring.turn(1 - c));
}

// One warpgroup's main loop over a tile's `n` k-tiles from ring position p: acc[h] is rows 64h..64h+63 of the tile.
// Passes the turn once the last wgmma are issued, and frees every stage it read.
template <bool BF16>
__device__ __forceinline__ void pp_mainloop(float (&acc)[2][64], const PpRing& ring, int p, int n, int c) {
    const bool leader = threadIdx.x % 128 == 0;
#pragma unroll
    for (int h = 0; h < 2; h++)
#pragma unroll
        for (int i = 0; i < 64; i++) acc[h][i] = 0.f;
    for (int kt = 0; kt < n; kt++) {
        mbar_wait(ring.full(p + kt), PpRing::phase(p + kt));
        const u32 x_tile = ring.x_tile(p + kt), w_tile = ring.w_tile(p + kt);
        wgmma_fence_operand(acc[0]);
        wgmma_fence_operand(acc[1]);
        wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < pp::BK / 16; kk++) {
            const u64 b = wgmma_desc_k_sw128(w_tile + kk * 32);
#pragma unroll
            for (int h = 0; h < 2; h++) {
                wgmma_m64nNk16<128, BF16>(acc[h], wgmma_desc_k_sw128(x_tile + h * 64 * pp::BK * 2 + kk * 32), b, 1);
            }
        }
        wgmma_commit();
        wgmma_fence_operand(acc[0]);
        wgmma_fence_operand(acc[1]);
        wgmma_wait<1>();  // the previous k-tile's wgmma are done: free its stage
        wgmma_fence_operand(acc[0]);
        wgmma_fence_operand(acc[1]);
        if (kt > 0 && leader) mbar_arrive(ring.empty(p + kt - 1));
    }
    pp_pass_turn(ring, c);  // the other consumer's wgmma queue behind this tile's last ones
    wgmma_wait<0>();
    wgmma_fence_operand(acc[0]);  // the epilogue's reads stay after the wait
    wgmma_fence_operand(acc[1]);
    if (leader) mbar_arrive(ring.empty(p + n - 1));  // the ring goes on into the next tile: free the last stage too
}

// Consumer c (0 or 1): its local tiles, each main loop in its turn, each epilogue overlapping the other's main loop.
template <typename E, typename O>
__device__ __forceinline__ void pp_consume(const GemmArgs<E, O>& g, const PpRing& ring, int tiles_m, int tiles_n,
                                           int k_tiles_per_tile, int c) {
    float acc[2][64];
    int p = 0;      // ring position of the next tile that has k-tiles, whoever takes it
    int turns = 0;  // this consumer's tiles so far
    for (int i = 0, index = blockIdx.x; index < tiles_m * tiles_n; i++, index += gridDim.x) {
        const PpTile tile = pp_tile(g, index, tiles_m, tiles_n);
        if (i % pp::CONSUMERS != c) {  // the other consumer's: skip its k-tiles
            if (!tile.padding) p += k_tiles_per_tile;
            continue;
        }
        pp_wait_turn(ring, c, turns++);
        if (tile.padding) {  // -inf, and W is never touched; an empty turn keeps the alternation simple
            pp_pass_turn(ring, c);
            gemm_fill_padding(g, tile.m0, pp::BM, tile.n0, pp::BN, threadIdx.x % 128, 128);
            continue;
        }
        pp_mainloop<E::IS_BF16>(acc, ring, p, k_tiles_per_tile, c);
        p += k_tiles_per_tile;
        sm90_store_fragment(g, acc[0], tile.m0, tile.n0);
        sm90_store_fragment(g, acc[1], tile.m0 + 64, tile.n0);
    }
}

template <typename E, typename O>
__device__ __forceinline__ void gemm_wgmma_pp(const GemmArgs<E, O>& g, const tpk_tensor_map& map_x,
                                              const tpk_tensor_map& map_w, const tpk_tensor_map& map_xa,
                                              const tpk_tensor_map& map_b) {
    using namespace pp;
    const int tiles_m = (g.T + BM - 1) / BM;
    const int tiles_n = (int)((g.S + BN - 1) / BN);
    const int k_tiles = (g.K + BK - 1) / BK;  // the base product's k-tiles
    const int r_tiles = (g.R + BK - 1) / BK;  // then LoRA's expand, into the same accumulators
    const PpRing ring{sm90_aligned_smem(ALIGN)};

    if (threadIdx.x == 0) {
        for (int s = 0; s < STAGES; s++) {
            mbar_init(ring.full(s), 1);   // the producer's arrive_expect_tx, then TMA's bytes
            mbar_init(ring.empty(s), 1);  // the one consumer that read the stage
        }
        for (int c = 0; c < CONSUMERS; c++) mbar_init(ring.turn(c), 1);
        mbar_fence_init();
    }
    __syncthreads();

    const int warpgroup = threadIdx.x / 128;
    if (warpgroup == 0) {
        setmaxnreg_dec<PRODUCER_REGS>();
        if (threadIdx.x == 0) pp_produce(g, ring, tiles_m, tiles_n, k_tiles, r_tiles, map_x, map_w, map_xa, map_b);
        return;
    }
    setmaxnreg_inc<CONSUMER_REGS>();
    pp_consume(g, ring, tiles_m, tiles_n, k_tiles + r_tiles, warpgroup - 1);
}

#define TPK_WGMMA_PP_KERNEL(SUFFIX, E, O) \
    TPK_SM90_GEMM_KERNEL(tpk_gemm_wgmma_pp_##SUFFIX, pp::THREADS, gemm_wgmma_pp, E, O)
TPK_SM90_GEMM_DTYPES(TPK_WGMMA_PP_KERNEL)
