// emulator_test_kernels.cu: kernels that break the rules on purpose, so emulator_test.cpp can check that the
// emulator says so, and Hopper kernels (TMA, mbarrier, wgmma) that check the emulation of those primitives
// against a reference. Compiled only into the emulator's self-test, never into PTX or the emulated driver.
#include "kernel_registry.h"
#include "tpk_common.cuh"
#include "tpk_ptx_sm90.cuh"

// Thread 0 copies 16 bytes into shared memory; every thread of warp 0 then reads them with ldmatrix.
// with_barrier = 0: no __syncthreads between the retiring wait and the other threads' reads (a race).
extern "C" __global__ void emu_test_copy_then_read(const u16* src, u32* out, int with_barrier) {
    unsigned char* smem = tpk_dynamic_smem();
    if (threadIdx.x < 32) cp_async16(smem_addr(smem + 16 * threadIdx.x), src + 8 * threadIdx.x, true);
    cp_async_commit();
    cp_async_wait<0>();
    if (with_barrier) __syncthreads();
    u32 r[4];
    ldmatrix_x4(r, smem_addr(smem + 16 * (threadIdx.x % 32)));
    out[threadIdx.x] = r[0];
}

// Half the block returns before a __syncthreads the other half waits at.
extern "C" __global__ void emu_test_divergent_barrier(int* out) {
    if (threadIdx.x % 2) return;
    __syncthreads();
    out[threadIdx.x] = 1;
}

// A shuffle only the even lanes reach.
extern "C" __global__ void emu_test_divergent_shuffle(int* out) {
    int v = threadIdx.x;
    if (threadIdx.x % 2 == 0) v = __shfl_xor_sync(0xffffffffu, v, 1);
    out[threadIdx.x] = v;
}

// Of a grid of two blocks, block `waiter` waits for the flag the other one publishes after writing data[0]; then
// every thread copies data[0] into data[1 + thread].
extern "C" __global__ void emu_test_flag_handoff(u32* flag, int* data, int waiter) {
    if ((int)blockIdx.x != waiter) {
        if (threadIdx.x == 0) data[0] = 42;
        __syncthreads();
        if (threadIdx.x == 0) tpk_publish(flag, 7);
        return;
    }
    if (threadIdx.x == 0) tpk_wait_flag(flag, 7);
    __syncthreads();
    data[1 + threadIdx.x] = data[0];
}

// Bounded waits (tpk_bounded_wait of tpk_ptx.cuh). kind 0: every thread waits for a flag nobody publishes; kind 1:
// every thread waits for phase 0 of an mbarrier nobody arrives on; kind 2: thread 0 waits for the flag the block's
// last thread publishes (a poll lets the other threads run).
extern "C" __global__ void emu_test_wait(u32* flag, int kind) {
    if (kind == 0) {
        tpk_wait_flag(flag, 1);
    } else if (kind == 1) {
        const u32 bar = (smem_addr(tpk_dynamic_smem()) + 7) & ~7u;
        if (threadIdx.x == 0) {
            mbar_init(bar, 1);
            mbar_fence_init();
        }
        __syncthreads();
        mbar_wait(bar, 0);
    } else {
        if (threadIdx.x == 0) tpk_wait_flag(flag, 1);
        if (threadIdx.x == blockDim.x - 1) tpk_publish(flag, 1);
    }
}

// ---- Hopper: TMA, mbarriers, wgmma

// A warp-specialized GEMM in the shape of gemm_sm90.cu: out[t][n] = sum_k X[t][k] W[n][k], one 128 x 256 tile
// of out per block, 384 threads. Warpgroup 0 produces: one thread loads a 128 x 64 tile of X and a 256 x 64 tile
// of W per stage with TMA (128-byte swizzle) and announces their bytes on the stage's "full" barrier, after
// waiting on its "empty" barrier (a fresh barrier passes parity 1: the first round does not wait). Warpgroups 1
// and 2 consume rows 0-63 and 64-127: they wait on "full", run 4 wgmma m64n256k16 (k advancing 32 bytes inside
// the swizzled rows), commit, wait until one group is in flight, and one thread of each then releases the
// previous stage's "empty" (its count is 2: both consumers). mode breaks one rule (GemmMode) to see it caught.
namespace sm90_test {
constexpr int BM = 128, BN = 256, BK = 64, STAGES = 3;
constexpr u32 X_BYTES = BM * BK * 2, W_BYTES = BN * BK * 2, STAGE_BYTES = X_BYTES + W_BYTES;
enum GemmMode {
    CORRECT,
    READ_BEFORE_WAIT,           // k tile 0 without mbar_wait on "full": its TMA loads are still in flight
    RELEASE_BEFORE_WGMMA_WAIT,  // "empty" arrive right after the commit: the wgmma still reads the stage
    EXPECT_TOO_MANY_BYTES,      // "full" never completes
    NO_FINAL_WAIT,              // exits with a wgmma group in flight
    NONUNIFORM_DESCRIPTOR,      // one thread's B descriptor 32 bytes off
    MISALIGNED_TMA,             // X tile 64 bytes off
    EXPECT_TOO_FEW_BYTES,       // the loads overshoot the phase
    NO_FENCE,                   // no wgmma_fence before the first wgmma
    READ_LANDED_UNWAITED,       // k tile 1 without mbar_wait: its loads have landed, but nobody observed that
    RELEASE_THEN_WAIT_ALL,      // "empty" arrive before a wgmma_wait<0>: the read is over, but not ordered first
};

template <bool BF16>
__device__ void consume(float (&d)[128], u32 xs, u32 ws, int kt, int mode) {
    for (int k = 0; k < BK / 16; k++) {
        u64 desc_b = wgmma_desc_k_sw128(ws + 32 * k);
        if (mode == NONUNIFORM_DESCRIPTOR && threadIdx.x == 200) desc_b += 2;  // 32 bytes further, on one thread
        wgmma_m64nNk16<256, BF16>(d, wgmma_desc_k_sw128(xs + 32 * k), desc_b, kt > 0 || k > 0);
    }
}
}  // namespace sm90_test

extern "C" __global__ void __launch_bounds__(384) emu_test_sm90_gemm(float* out, const __grid_constant__ tpk_tensor_map map_x,
                                                                     const __grid_constant__ tpk_tensor_map map_w, int T,
                                                                     int N, int K, int bf16, int mode) {
    using namespace sm90_test;
    const u32 base = (smem_addr(tpk_dynamic_smem()) + 1023) & ~1023u;
    const u32 bars = base + STAGES * STAGE_BYTES;
    auto full = [&](int s) { return bars + 8 * s; };
    auto empty = [&](int s) { return bars + 8 * (STAGES + s); };
    const int wg = threadIdx.x / 128, ktiles = (K + BK - 1) / BK;
    if (threadIdx.x == 0) {
        for (int s = 0; s < STAGES; s++) {
            mbar_init(full(s), 1);
            mbar_init(empty(s), 2);
        }
        mbar_fence_init();
    }
    __syncthreads();
    if (wg == 0) {
        setmaxnreg_dec<40>();
        if (threadIdx.x == 0) {
            for (int kt = 0; kt < ktiles; kt++) {
                const int s = kt % STAGES;
                mbar_wait(empty(s), ((kt / STAGES) & 1) ^ 1);
                const u32 xs = base + s * STAGE_BYTES + (mode == MISALIGNED_TMA ? 64 : 0);
                const u32 bytes = mode == EXPECT_TOO_MANY_BYTES ? 2 * STAGE_BYTES
                                  : mode == EXPECT_TOO_FEW_BYTES ? STAGE_BYTES / 2 : STAGE_BYTES;
                mbar_arrive_expect_tx(full(s), bytes);
                tma_load_2d(xs, &map_x, kt * BK, blockIdx.y * BM, full(s));
                tma_load_2d(base + s * STAGE_BYTES + X_BYTES, &map_w, kt * BK, blockIdx.x * BN, full(s));
            }
        }
        return;
    }
    setmaxnreg_inc<232>();
    float d[128];
    for (int i = 0; i < 128; i++) d[i] = 0.f;
    for (int kt = 0; kt < ktiles; kt++) {
        const int s = kt % STAGES;
        if (!(mode == READ_BEFORE_WAIT && kt == 0) && !(mode == READ_LANDED_UNWAITED && kt == 1)) {
            mbar_wait(full(s), (kt / STAGES) & 1);
        }
        const u32 xs = base + s * STAGE_BYTES + (wg - 1) * 64 * 128, ws = base + s * STAGE_BYTES + X_BYTES;
        if (mode != NO_FENCE) wgmma_fence();
        if (bf16) consume<true>(d, xs, ws, kt, mode);
        else consume<false>(d, xs, ws, kt, mode);
        wgmma_commit();
        if (mode == RELEASE_BEFORE_WGMMA_WAIT || mode == RELEASE_THEN_WAIT_ALL) {
            if (threadIdx.x % 128 == 0) mbar_arrive(empty(s));
            if (mode == RELEASE_THEN_WAIT_ALL) wgmma_wait<0>();
            continue;
        }
        wgmma_wait<1>();
        if (kt > 0 && threadIdx.x % 128 == 0) mbar_arrive(empty((kt - 1) % STAGES));
    }
    if (mode != NO_FINAL_WAIT) wgmma_wait<0>();
    // The accumulator layout of tpk_ptx_sm90.cuh: warp w of the warpgroup has rows 16w..16w+15.
    const int t = threadIdx.x % 128, w = t / 32, l = t % 32;
    for (int v = 0; v < 128; v++) {
        const int i = v / 4, q = v % 4;
        const int row = blockIdx.y * BM + (wg - 1) * 64 + 16 * w + l / 4 + 8 * (q / 2);
        const int col = blockIdx.x * BN + 8 * i + 2 * (l % 4) + q % 2;
        if (row < T && col < N) out[(long long)row * N + col] = d[v];
    }
}

// The layout cross-check: TMA loads a 64 x 64 tile of A and a 256 x 64 tile of B (128-byte swizzle), the raw
// shared bytes of A go to a_image, then one wgmma multiplies the k16 slice ks (descriptors at +32 ks bytes) and
// D goes to out as d[v] of lane t at out[128 t + v]. emulator_test.cpp makes one operand a one-hot selector, so
// that D must show the other operand's elements, each where the PTX ISA says. publish 0: one warpgroup, every
// thread waits on the mbarrier; 1: 256 threads, thread 0 waits and a __syncthreads passes what it observed on to
// warpgroup 1, which computes; 2: the same without that __syncthreads (a race). width: the wgmma's N, over B's
// first `width` rows (d[0 .. width/2 - 1]; the others stay NaN). a_regs: A from registers instead (m64n256k16),
// each thread's a[0..3] read from a_global (A row-major, 64 x 64) where the PTX ISA's A fragment puts them.
template <int N>
__device__ void layout_mma(float (&d)[128], u64 da, u64 db, bool bf16) {
    float (&dn)[N / 2] = *reinterpret_cast<float (*)[N / 2]>(d);
    if (bf16) wgmma_m64nNk16<N, true>(dn, da, db, 0);
    else wgmma_m64nNk16<N, false>(dn, da, db, 0);
}

extern "C" __global__ void emu_test_sm90_layout(float* out, u16* a_image, const u16* a_global,
                                                const __grid_constant__ tpk_tensor_map map_a,
                                                const __grid_constant__ tpk_tensor_map map_b, int ks, int bf16,
                                                int publish, int width, int a_regs) {
    const u32 a = (smem_addr(tpk_dynamic_smem()) + 1023) & ~1023u, b = a + 64 * 128, bar = b + 256 * 128;
    if (threadIdx.x == 0) {
        mbar_init(bar, 1);
        mbar_fence_init();
        mbar_arrive_expect_tx(bar, 64 * 128 + 256 * 128);
        tma_load_2d(a, &map_a, 0, 0, bar);
        tma_load_2d(b, &map_b, 0, 0, bar);
    }
    __syncthreads();
    if (publish == 0 || threadIdx.x == 0) mbar_wait(bar, 0);
    if (publish == 1) __syncthreads();
    if (publish != 0 && threadIdx.x < 128) return;
    const int t = threadIdx.x % 128;
    const unsigned char* smem = tpk_dynamic_smem() + (a - smem_addr(tpk_dynamic_smem()));
    for (int i = t; i < 64 * 64; i += 128) std::memcpy(&a_image[i], smem + 2 * i, 2);
    float d[128];
    for (int v = 0; v < 128; v++) d[v] = __uint_as_float(0x7fc00000u);  // scale-d 0 ignores them
    const u64 da = wgmma_desc_k_sw128(a + 32 * ks), db = wgmma_desc_k_sw128(b + 32 * ks);
    u32 regs[4];  // alive until the wait: the wgmma reads them asynchronously
    if (a_regs) {
        // PTX ISA, A fragment of wgmma .m64nNk16 (.f16/.bf16): warp w has rows 16w..16w+15; lane l's register j
        // holds row 16w + l/4 + 8 (j % 2), columns 8 (j / 2) + 2 (l % 4) and the one after (lower half first).
        const int w = t / 32, l = t % 32;
        for (int j = 0; j < 4; j++) {
            const int row = 16 * w + l / 4 + 8 * (j % 2), col = 16 * ks + 8 * (j / 2) + 2 * (l % 4);
            regs[j] = (u32)a_global[row * 64 + col] | ((u32)a_global[row * 64 + col + 1] << 16);
        }
    }
    wgmma_fence();
    if (a_regs) {
        if (bf16) wgmma_m64n256k16_rs<true>(d, regs, db, 0);
        else wgmma_m64n256k16_rs<false>(d, regs, db, 0);
    } else if (width == 16) {
        layout_mma<16>(d, da, db, bf16);
    } else if (width == 32) {
        layout_mma<32>(d, da, db, bf16);
    } else if (width == 64) {
        layout_mma<64>(d, da, db, bf16);
    } else if (width == 128) {
        layout_mma<128>(d, da, db, bf16);
    } else {
        layout_mma<256>(d, da, db, bf16);
    }
    wgmma_commit();
    wgmma_wait<0>();
    for (int v = 0; v < 128; v++) out[t * 128 + v] = d[v];
}

// A wgmma with A in registers whose registers a thread changes before the wgmma_wait (a rule the PTX ISA states).
extern "C" __global__ void emu_test_sm90_a_regs_changed(const __grid_constant__ tpk_tensor_map map_b) {
    const u32 b = (smem_addr(tpk_dynamic_smem()) + 1023) & ~1023u, bar = b + 256 * 128;
    if (threadIdx.x == 0) {
        mbar_init(bar, 1);
        mbar_fence_init();
        mbar_arrive_expect_tx(bar, 256 * 128);
        tma_load_2d(b, &map_b, 0, 0, bar);
    }
    __syncthreads();
    mbar_wait(bar, 0);
    float d[128];
    u32 regs[4] = {0x3f803f80u, 0x3f803f80u, 0x3f803f80u, 0x3f803f80u};
    wgmma_fence();
    wgmma_m64n256k16_rs<true>(d, regs, wgmma_desc_k_sw128(b), 0);
    wgmma_commit();
    if (threadIdx.x == 5) regs[2] = 0;  // too early: the wgmma may still read it
    wgmma_wait<0>();
}

// One TMA load of a box into shared memory with the map's swizzle (none, here), its raw bytes copied to image.
extern "C" __global__ void emu_test_sm90_tma_image(u16* image, const __grid_constant__ tpk_tensor_map map, int c0, int c1,
                                                   int bytes) {
    const u32 dst = (smem_addr(tpk_dynamic_smem()) + 1023) & ~1023u, bar = dst + bytes;
    if (threadIdx.x == 0) {
        mbar_init(bar, 1);
        mbar_fence_init();
        mbar_arrive_expect_tx(bar, bytes);
        tma_load_2d(dst, &map, c0, c1, bar);
        mbar_wait(bar, 0);
        std::memcpy(image, tpk_dynamic_smem() + (dst - smem_addr(tpk_dynamic_smem())), bytes);
    }
}

// mbarrier and warpgroup misuse, one rule per mode (MbarMode).
namespace sm90_test {
enum MbarMode { CORRECT_MBAR, USE_BEFORE_INIT, MISALIGNED_BARRIER, TOO_MANY_ARRIVALS, UNPUBLISHED, PARTIAL_SETMAXNREG,
                WAIT_BEFORE_FIRST_PHASE };
}
extern "C" __global__ void emu_test_sm90_mbar(int mode) {
    using namespace sm90_test;
    const u32 bar = (smem_addr(tpk_dynamic_smem()) + 1023) & ~1023u;
    if (mode == USE_BEFORE_INIT) {
        mbar_arrive(bar);
        return;
    }
    if (threadIdx.x == 0) {
        mbar_init(mode == MISALIGNED_BARRIER ? bar + 4 : bar, 1);
        if (mode != UNPUBLISHED) mbar_fence_init();
    }
    if (mode != UNPUBLISHED) __syncthreads();
    if (mode == TOO_MANY_ARRIVALS) {
        if (threadIdx.x == 0) mbar_arrive_expect_tx(bar, 16);  // all arrivals in; 16 bytes still expected
        __syncthreads();
        if (threadIdx.x == 1) mbar_arrive(bar);
        return;
    }
    if (mode == PARTIAL_SETMAXNREG) {
        if (threadIdx.x < 64) setmaxnreg_dec<40>();
        return;
    }
    if (mode == WAIT_BEFORE_FIRST_PHASE) {  // parity 0 of a fresh barrier: phase 0 never completes
        mbar_wait(bar, 0);
        return;
    }
    mbar_wait(bar, 1);  // passes at once on a fresh barrier
    __syncthreads();    // (once phase 0 completes, parity 1 means phase 1, which would block)
    if (threadIdx.x == 1) mbar_arrive(bar);
    mbar_wait(bar, 0);  // phase 0 completes with that one arrival
}

static const tpk_emu::KernelEntry emu_test_kernels[] = {
    tpk_emu::kernel_entry("emu_test_copy_then_read", &emu_test_copy_then_read),
    tpk_emu::kernel_entry("emu_test_divergent_barrier", &emu_test_divergent_barrier),
    tpk_emu::kernel_entry("emu_test_divergent_shuffle", &emu_test_divergent_shuffle),
    tpk_emu::kernel_entry("emu_test_flag_handoff", &emu_test_flag_handoff),
    tpk_emu::kernel_entry("emu_test_wait", &emu_test_wait),
    tpk_emu::kernel_entry("emu_test_sm90_gemm", &emu_test_sm90_gemm),
    tpk_emu::kernel_entry("emu_test_sm90_layout", &emu_test_sm90_layout),
    tpk_emu::kernel_entry("emu_test_sm90_a_regs_changed", &emu_test_sm90_a_regs_changed),
    tpk_emu::kernel_entry("emu_test_sm90_tma_image", &emu_test_sm90_tma_image),
    tpk_emu::kernel_entry("emu_test_sm90_mbar", &emu_test_sm90_mbar),
};
static const bool emu_test_registered =
    tpk_emu::register_kernels(emu_test_kernels, sizeof emu_test_kernels / sizeof emu_test_kernels[0]);
