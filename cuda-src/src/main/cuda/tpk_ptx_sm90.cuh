// tpk_ptx_sm90.cuh: the Hopper (sm_90a) inline-PTX primitives: mbarriers, the tensor-memory accelerator
// (TMA, cp.async.bulk.tensor) and warpgroup MMA (wgmma). Only kernels built for compute_90a include it
// (gemm_sm90.cu, gemm_sm90_pingpong.cu). As with tpk_ptx.cuh, kernels call these functions and never write asm themselves, and
// under TPK_EMULATION the CPU emulator supplies host implementations (tpk_ptx_sm90_emulated.h); mbar_wait, the
// bounded loop over mbar_try_wait, is the same code in both.
//
// Shared-memory operands are 32-bit shared-window addresses (smem_addr of tpk_ptx.cuh). An mbarrier is 8
// bytes of shared memory, 8-byte aligned.
#pragma once
#include "tpk_ptx.cuh"

// CUtensorMap of cuda.h (an opaque 128-byte, 64-byte aligned descriptor filled on the host by
// cuTensorMapEncodeTiled), passed to kernels by value as a __grid_constant__ parameter.
struct alignas(64) tpk_tensor_map {
    u64 opaque[16];
};

// The wgmma shared-memory matrix descriptor (PTX ISA, "Matrix Descriptor Format") of a K-major operand in the
// 128-byte swizzle layout: rows of 64 16-bit elements (128 bytes), groups of 8 rows 1024 bytes apart, the
// 16-byte chunk c of row r stored at chunk c ^ (r % 8) (the pattern TMA writes with CU_TENSOR_MAP_SWIZZLE_128B
// into a 1024-byte aligned tile). addr is the operand's first row at its k offset (a multiple of 32 bytes
// inside the 128-byte row: the swizzle applies to address bits, so advancing k by 16 is start + 32 bytes).
// Fields: start address >> 4 (bits 0-13), leading-dimension byte offset >> 4 (16-29; unused by swizzled
// K-major layouts, 1 by convention), stride-dimension byte offset >> 4 (32-45: 1024 bytes between 8-row
// groups), base offset 0 (49-51: tiles are 1024-byte aligned), layout 1 = 128-byte swizzle (62-63).
__device__ __forceinline__ u64 wgmma_desc_k_sw128(u32 addr) {
    return (u64)((addr & 0x3ffff) >> 4) | ((u64)(16 >> 4) << 16) | ((u64)(1024 >> 4) << 32) | ((u64)1 << 62);
}

#ifdef TPK_EMULATION
#include "tpk_ptx_sm90_emulated.h"
#else

// ---- mbarrier (PTX ISA "Parallel Synchronization and Communication Instructions: mbarrier")

// Initialises the barrier at bar for `count` arrivals per phase; phase 0 is in progress.
__device__ __forceinline__ void mbar_init(u32 bar, u32 count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(bar), "r"(count) : "memory");
}
// Makes this thread's mbarrier initialisations visible to the other threads and to the async proxy (TMA),
// before the __syncthreads that publishes them.
__device__ __forceinline__ void mbar_fence_init() {
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
}
// One arrival.
__device__ __forceinline__ void mbar_arrive(u32 bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(bar) : "memory");
}
// Expects `bytes` more bytes of asynchronous copies (their completion counts them down), then one arrival.
__device__ __forceinline__ void mbar_arrive_expect_tx(u32 bar, u32 bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(bar), "r"(bytes) : "memory");
}
// Whether the phase of parity `parity` has completed (the current phase's parity differs from it). A potentially
// blocking test: the thread may be suspended a while (a time limit of the hardware's) before it says no.
__device__ __forceinline__ bool mbar_try_wait(u32 bar, u32 parity) {
    u32 done;
    asm volatile(
        "{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\nselp.u32 %0, 1, 0, p;\n}"
        : "=r"(done) : "r"(bar), "r"(parity) : "memory");
    return done != 0;
}

// ---- TMA (PTX ISA "cp.async.bulk.tensor")

// The box at element coordinates (c0 innermost, c1) of the 2-D tensor `map` describes, copied into shared
// memory at dst (1024-byte aligned for the 128-byte swizzle) as the map's swizzle lays it out; elements
// outside the tensor are zeros. Completion counts the box's full byte size down on the mbarrier bar.
__device__ __forceinline__ void tma_load_2d(u32 dst, const tpk_tensor_map* map, int c0, int c1, u32 bar) {
    asm volatile(
        "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];"
        ::"r"(dst), "l"(map), "r"(c0), "r"(c1), "r"(bar) : "memory");
}

// ---- registers per warpgroup (sm_90a): every thread of the warpgroup executes it

template <int N>
__device__ __forceinline__ void setmaxnreg_dec() { asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" ::"n"(N)); }
template <int N>
__device__ __forceinline__ void setmaxnreg_inc() { asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" ::"n"(N)); }

// ---- wgmma (PTX ISA "Asynchronous Warpgroup Level Matrix Multiply-Accumulate"): all 128 threads of a warpgroup

// Orders this warpgroup's earlier register writes (the accumulators) before the wgmma that reads them.
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
// Closes the group of the wgmma issued since the last commit.
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }
// Waits until at most N committed groups are pending: the accumulators of the others are final, and their
// shared-memory operands may be overwritten.
template <int N>
__device__ __forceinline__ void wgmma_wait() { asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(N) : "memory"); }

// Pins the accumulators in place for the compiler: the wait and fence above name no registers, so without this
// the compiler may move reads of d (the epilogue) above the wgmma_wait that makes them valid, or writes to d
// (the zeroing) below the wgmma_fence that must follow them. An empty asm that reads and writes every d[i],
// placed right after the wait (and before the fence), keeps them in order.
template <int N>
__device__ __forceinline__ void wgmma_fence_operand(float (&d)[N]) {
#pragma unroll
    for (int i = 0; i < N; i++) asm volatile("" : "+f"(d[i])::"memory");
}
// The same for A operands in registers (wgmma_m64n256k16_rs): their writes (conversions, not volatile) stay before
// the wgmma_fence, and nothing reuses them before the wgmma_wait.
template <int N>
__device__ __forceinline__ void wgmma_fence_operand(u32 (&a)[N]) {
#pragma unroll
    for (int i = 0; i < N; i++) asm volatile("" : "+r"(a[i])::"memory");
}

// The accumulator operands of the wgmma asm statements below: d[i .. i+3], d[i .. i+15], d[i .. i+63], in order.
#define TPK_WGMMA_D4(i) "+f"(d[i]), "+f"(d[i + 1]), "+f"(d[i + 2]), "+f"(d[i + 3])
#define TPK_WGMMA_D16(i) TPK_WGMMA_D4(i), TPK_WGMMA_D4(i + 4), TPK_WGMMA_D4(i + 8), TPK_WGMMA_D4(i + 12)
#define TPK_WGMMA_D64(i) TPK_WGMMA_D16(i), TPK_WGMMA_D16(i + 16), TPK_WGMMA_D16(i + 32), TPK_WGMMA_D16(i + 48)

// One wgmma with both operands in shared memory: SHAPE ("m64n256k16", ...), input TYPE ("bf16" or "f16"), the
// accumulators' placeholder list D_LIST and the placeholders of desc_a, desc_b and scale_d, then the accumulator
// operands. scale-a, scale-b 1 (no negation), both operands K-major (no transpose).
#define TPK_WGMMA_SS(SHAPE, TYPE, D_LIST, DESC_A, DESC_B, SCALE_D, ...)                                          \
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, " SCALE_D ", 0;\n"                                            \
                 "wgmma.mma_async.sync.aligned." SHAPE ".f32." TYPE "." TYPE " {" D_LIST "}, " DESC_A ", " DESC_B \
                 ", p, 1, 1, 0, 0;\n}"                                                                           \
                 : __VA_ARGS__                                                                                   \
                 : "l"(desc_a), "l"(desc_b), "r"(scale_d)                                                        \
                 : "memory")

// TPK_WGMMA_SS for the input type BF16 says.
#define TPK_WGMMA_BY_TYPE(SHAPE, D_LIST, DESC_A, DESC_B, SCALE_D, ...)              \
    if (BF16) {                                                                   \
        TPK_WGMMA_SS(SHAPE, "bf16", D_LIST, DESC_A, DESC_B, SCALE_D, __VA_ARGS__); \
    } else {                                                                      \
        TPK_WGMMA_SS(SHAPE, "f16", D_LIST, DESC_A, DESC_B, SCALE_D, __VA_ARGS__);  \
    }

#define TPK_D_0_7 "%0, %1, %2, %3, %4, %5, %6, %7"
#define TPK_D_0_15 TPK_D_0_7 ", %8, %9, %10, %11, %12, %13, %14, %15"
#define TPK_D_0_31 TPK_D_0_15 ", %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31"
#define TPK_D_0_63                                                                                         \
    TPK_D_0_31 ", %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "         \
               "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
#define TPK_D_0_127                                                                                                   \
    TPK_D_0_63 ", %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, "                    \
               "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, "                      \
               "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, "          \
               "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127"

// d[64 x N] (+)= A[64 x 16] * B[N x 16]^T, both K-major in shared memory (descriptors above), f32 accumulators;
// scale_d 0 ignores d's old value. N is 16, 32, 64 (LoRA's shrink, gemm_sm90.cu), 128 (gemm_sm90_pingpong.cu,
// two per k16 for a 128 x 128 tile) or 256 (gemm_sm90.cu). Accumulator layout (PTX ISA, wgmma .m64nNk16 D
// fragment): warp w of the warpgroup owns rows 16w..16w+15; lane l holds, for i in 0..N/8-1, d[4i + q] at row
// 16w + l/4 + 8*(q/2), column 8i + 2*(l%4) + q%2.
template <int N, bool BF16>
__device__ __forceinline__ void wgmma_m64nNk16(float (&d)[N / 2], u64 desc_a, u64 desc_b, int scale_d) {
    static_assert(N == 16 || N == 32 || N == 64 || N == 128 || N == 256, "the wgmma shapes the kernels use");
    if constexpr (N == 16) {
        TPK_WGMMA_BY_TYPE("m64n16k16", TPK_D_0_7, "%8", "%9", "%10", TPK_WGMMA_D4(0), TPK_WGMMA_D4(4))
    } else if constexpr (N == 32) {
        TPK_WGMMA_BY_TYPE("m64n32k16", TPK_D_0_15, "%16", "%17", "%18", TPK_WGMMA_D16(0))
    } else if constexpr (N == 64) {
        TPK_WGMMA_BY_TYPE("m64n64k16", TPK_D_0_31, "%32", "%33", "%34", TPK_WGMMA_D16(0), TPK_WGMMA_D16(16))
    } else if constexpr (N == 128) {
        TPK_WGMMA_BY_TYPE("m64n128k16", TPK_D_0_63, "%64", "%65", "%66", TPK_WGMMA_D64(0))
    } else {
        TPK_WGMMA_BY_TYPE("m64n256k16", TPK_D_0_127, "%128", "%129", "%130", TPK_WGMMA_D64(0), TPK_WGMMA_D64(64))
    }
}

// One m64n256k16 wgmma with A in registers (a[0..3]) and B in shared memory: as TPK_WGMMA_SS, without imm-trans-a.
#define TPK_WGMMA_RS(TYPE)                                                                                     \
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %133, 0;\n"                                                 \
                 "wgmma.mma_async.sync.aligned.m64n256k16.f32." TYPE "." TYPE " {" TPK_D_0_127 "}, "           \
                 "{%128, %129, %130, %131}, %132, p, 1, 1, 0;\n}"                                              \
                 : TPK_WGMMA_D64(0), TPK_WGMMA_D64(64)                                                         \
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "r"(scale_d)                       \
                 : "memory")

// d[64 x 256] (+)= A[64 x 16] * B[256 x 16]^T with A in registers: the a[4] of each thread hold two 16-bit
// elements each (the lower half first), laid out as the m64n16 accumulator fragment above: a[j] holds what that
// fragment's d[2j] and d[2j + 1] hold, i.e. row 16w + l/4 + 8*(j%2), columns 8*(j/2) + 2*(l%4) + 0, 1 (PTX ISA,
// wgmma .m64nNk16 A fragment). So the accumulators of an m64nRk16 chain, converted and paired, are the A
// operands of the next product's R/16 k-steps (gemm_sm90.cu: LoRA's x·Aᵀ, then times Bᵀ). B K-major in shared
// memory. The registers a must not change until a wgmma_wait retires this wgmma.
template <bool BF16>
__device__ __forceinline__ void wgmma_m64n256k16_rs(float (&d)[128], const u32 (&a)[4], u64 desc_b, int scale_d) {
    if (BF16) {
        TPK_WGMMA_RS("bf16");
    } else {
        TPK_WGMMA_RS("f16");
    }
}

#endif  // TPK_EMULATION

// Waits until the phase of parity `parity` has completed; traps past TPK_WAIT_BOUND_MS (tpk_bounded_wait). A
// freshly initialised barrier (phase 0 in progress) passes parity 1 at once and blocks on parity 0.
__device__ __forceinline__ void mbar_wait(u32 bar, u32 parity) {
    tpk_bounded_wait([&] { return mbar_try_wait(bar, parity); });
}
