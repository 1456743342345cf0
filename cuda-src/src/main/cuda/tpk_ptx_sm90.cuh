// tpk_ptx_sm90.cuh: the Hopper (sm_90a) inline-PTX primitives: mbarriers, the tensor-memory accelerator
// (TMA, cp.async.bulk.tensor) and warpgroup MMA (wgmma). Only kernels built for compute_90a include it
// (gemm_sm90.cu, gemm_sm90_pingpong.cu). As with tpk_ptx.cuh, kernels call these functions and never write asm themselves, and
// under TPK_EMULATION the CPU emulator supplies host implementations (tpk_ptx_sm90_emulated.h).
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
// Waits until the phase of parity `parity` has completed: the current phase's parity differs from it. A
// freshly initialised barrier (phase 0 in progress) passes parity 1 at once and blocks on parity 0.
__device__ __forceinline__ void mbar_wait(u32 bar, u32 parity) {
    u32 done = 0;
    while (!done) {
        asm volatile(
            "{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\nselp.u32 %0, 1, 0, p;\n}"
            : "=r"(done) : "r"(bar), "r"(parity) : "memory");
    }
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

// The one wgmma shape the kernels use, for input type TYPE ("bf16" or "f16"): 128 accumulators in and out.
#define TPK_WGMMA_M64N256K16(TYPE) \
    asm volatile(                                                                                                          \
        "{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"                                                                      \
        "wgmma.mma_async.sync.aligned.m64n256k16.f32." TYPE "." TYPE " {"                                                  \
        "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "                                           \
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "                                 \
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "                                 \
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, "                                 \
        "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, "                                 \
        "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, "                                 \
        "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, "                     \
        "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127}, "                \
        "%128, %129, p, 1, 1, 0, 0;\n}"                                                                                    \
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),                  \
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),            \
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),          \
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),          \
          "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),          \
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),          \
          "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),          \
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]),          \
          "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]),          \
          "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]),          \
          "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]),          \
          "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]),          \
          "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]),      \
          "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]),  \
          "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]),  \
          "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])   \
        : "l"(desc_a), "l"(desc_b), "r"(scale_d) : "memory")

// d[64 x 256] (+)= A[64 x 16] * B[256 x 16]^T, both K-major in shared memory (descriptors above), f32
// accumulators; scale_d 0 ignores d's old value. Accumulator layout: warp w of the warpgroup owns rows
// 16w..16w+15; lane l holds, for i in 0..31, d[4i + q] at row 16w + l/4 + 8*(q/2), column 8i + 2*(l%4) + q%2.
template <bool BF16>
__device__ __forceinline__ void wgmma_m64n256k16(float (&d)[128], u64 desc_a, u64 desc_b, int scale_d) {
    if (BF16) {
        TPK_WGMMA_M64N256K16("bf16");
    } else {
        TPK_WGMMA_M64N256K16("f16");
    }
}

// The m64n128k16 shape (gemm_sm90_pingpong.cu: two of them per k16 cover a warpgroup's 128 x 128 tile): 64
// accumulators in and out.
#define TPK_WGMMA_M64N128K16(TYPE) \
    asm volatile(                                                                                                       \
        "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"                                                                    \
        "wgmma.mma_async.sync.aligned.m64n128k16.f32." TYPE "." TYPE " {"                                               \
        "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "                                        \
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "                              \
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "                              \
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "                             \
        "%64, %65, p, 1, 1, 0, 0;\n}"                                                                                   \
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),               \
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),         \
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),       \
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),       \
          "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),       \
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),       \
          "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),       \
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])        \
        : "l"(desc_a), "l"(desc_b), "r"(scale_d) : "memory")

// d[64 x 128] (+)= A[64 x 16] * B[128 x 16]^T: as wgmma_m64n256k16 with N = 128 (lane l holds d[4i + q] for i in
// 0..15 at the same rows and columns).
template <bool BF16>
__device__ __forceinline__ void wgmma_m64n128k16(float (&d)[64], u64 desc_a, u64 desc_b, int scale_d) {
    if (BF16) {
        TPK_WGMMA_M64N128K16("bf16");
    } else {
        TPK_WGMMA_M64N128K16("f16");
    }
}

#endif  // TPK_EMULATION
