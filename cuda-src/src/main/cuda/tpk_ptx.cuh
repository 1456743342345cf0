// tpk_ptx.cuh: every inline-PTX primitive the kernels use, and nothing else: conversions, the 16-byte
// read-only and L2 loads, the counter and flag blocks coordinate with, cp.async, ldmatrix, mma.sync and the
// dynamic shared-memory window, and the bounded wait built on them. Kernels call these functions and never write asm
// themselves, so the CPU emulator (the cuda-emulator module) can swap the primitives for host implementations
// (TPK_EMULATION) and run the kernels' own index math, and the wait loop below, on a machine without a GPU. No CUDA
// headers: NVRTC compiles it as is.
#pragma once

#include "tpk_constants.cuh"

typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

// 16 bytes, the unit of vector loads and cp.async.
struct alignas(16) tpk_u32x4 { u32 x, y, z, w; };

#ifdef TPK_EMULATION
#include "tpk_ptx_emulated.h"
#else

__device__ __forceinline__ float tpk_f16_to_f32(u16 h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}
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

// Double arithmetic rounded as written and never contracted into a fused multiply-add: what the JVM computes, so
// that a kernel written with these gives the CPU path's bits (the optimizer step).
__device__ __forceinline__ double tpk_dmul(double a, double b) { return __dmul_rn(a, b); }
__device__ __forceinline__ double tpk_dadd(double a, double b) { return __dadd_rn(a, b); }
__device__ __forceinline__ double tpk_dsub(double a, double b) { return __dsub_rn(a, b); }
__device__ __forceinline__ double tpk_ddiv(double a, double b) { return __ddiv_rn(a, b); }
__device__ __forceinline__ double tpk_dsqrt(double a) { return __dsqrt_rn(a); }
__device__ __forceinline__ float tpk_d2f(double a) { return __double2float_rn(a); }

// 16 bytes through the read-only (non-coherent) path.
__device__ __forceinline__ tpk_u32x4 tpk_ldg16(const void* p) {
    tpk_u32x4 v;
    asm volatile("ld.global.nc.v4.u32 {%0, %1, %2, %3}, [%4];"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
    return v;
}

// 16 bytes, and one f32, through L2 only (ld.global.cg): for memory another block of the same launch wrote,
// after an acquire. The read-only path above may serve such memory stale; it is for inputs only.
__device__ __forceinline__ tpk_u32x4 tpk_ldcg16(const void* p) {
    tpk_u32x4 v;
    asm volatile("ld.global.cg.v4.u32 {%0, %1, %2, %3}, [%4];"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p) : "memory");
    return v;
}
__device__ __forceinline__ float tpk_ldcg_f32(const float* p) {
    float v;
    asm volatile("ld.global.cg.f32 %0, [%1];" : "=f"(v) : "l"(p) : "memory");
    return v;
}

// ---- blocks of one launch handing work to each other (lora_decode.cu): a wrapping arrival counter and a flag
// one block publishes and others wait for, GPU scope. Each is issued by ONE thread of a block, between block
// barriers: its release covers what the block wrote before the barrier, and its acquire what the block reads
// after the next one (the pattern of CUTLASS's Semaphore and of cooperative groups' grid sync).

// old = *p; *p = old >= limit ? 0 : old + 1; returns old, with acquire and release semantics. With limit = n - 1,
// the n-th arrival sees n - 1 and leaves the counter at 0 again, ready for the next launch.
__device__ __forceinline__ u32 tpk_arrive_inc(u32* p, u32 limit) {
    u32 old;
    asm volatile("atom.acq_rel.gpu.global.inc.u32 %0, [%1], %2;" : "=r"(old) : "l"(p), "r"(limit) : "memory");
    return old;
}

// *p == expected ? *p = desired : nothing; returns the old *p. Relaxed: it hands out work, and the arrival
// counter and the flag order the data.
__device__ __forceinline__ u64 tpk_atomic_cas64(u64* p, u64 expected, u64 desired) {
    u64 old;
    asm volatile("atom.relaxed.gpu.global.cas.b64 %0, [%1], %2, %3;"
                 : "=l"(old) : "l"(p), "l"(expected), "l"(desired) : "memory");
    return old;
}

// *flag, with acquire semantics: what was written before the tpk_publish that stored it is visible after.
__device__ __forceinline__ u32 tpk_load_acquire(const u32* flag) {
    u32 v;
    asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(v) : "l"(flag) : "memory");
    return v;
}

// *flag = value (release): after every write this thread, and through a preceding barrier its block, made.
__device__ __forceinline__ void tpk_publish(u32* flag, u32 value) {
    asm volatile("st.release.gpu.global.u32 [%0], %1;" ::"l"(flag), "r"(value) : "memory");
}

// The GPU's global nanosecond timer (%globaltimer; its resolution is about a microsecond).
__device__ __forceinline__ u64 tpk_globaltimer_ns() {
    u64 t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}

// Aborts the kernel: the launch fails with CUDA_ERROR_LAUNCH_FAILED, and the context with it. A call, not inline:
// inline, ptxas sees a kernel exit where wgmma may be in flight (a consumer's mbar_wait) and serializes the
// wgmma and spills; a call to a .noreturn function keeps no register alive and leaves the kernel body as it was.
__device__ __noinline__ __attribute__((noreturn)) void tpk_trap() { __trap(); }

// The block's dynamic shared memory (the launch's sharedMemBytes), 16-byte aligned.
__device__ __forceinline__ unsigned char* tpk_dynamic_smem() {
    extern __shared__ __align__(16) unsigned char tpk_smem_raw[];
    return tpk_smem_raw;
}

// A generic pointer into shared memory as the 32-bit shared-window address cp.async and ldmatrix take.
__device__ __forceinline__ u32 smem_addr(const void* p) { return static_cast<u32>(__cvta_generic_to_shared(p)); }

// 16 bytes global -> shared, asynchronously; with pred false the 16 bytes are zero-filled and src is not read
// (src-size 0).
__device__ __forceinline__ void cp_async16(u32 dst, const void* src, bool pred) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(dst), "l"(src), "r"(pred ? 16 : 0));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;"); }
// Waits until at most N of this thread's committed groups are still in flight.
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;" ::"n"(N)); }

// Four 8x8 b16 matrices from shared memory: lanes 8i..8i+7 give the row addresses of matrix i; register i
// of lane l holds row l/4, elements 2(l%4) and 2(l%4)+1 of matrix i.
__device__ __forceinline__ void ldmatrix_x4(u32 (&r)[4], u32 addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr));
}

// The same four matrices transposed: register i of lane l holds column l/4, rows 2(l%4) and 2(l%4)+1 of matrix i
// (an mma's B fragment from a tile stored k-major, n contiguous; its A fragment from one stored k-major, m contiguous).
__device__ __forceinline__ void ldmatrix_x4_trans(u32 (&r)[4], u32 addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr));
}

// *p += v at the GPU's L2, atomically, returning nothing (red.global.add.f32): partial sums from many blocks.
__device__ __forceinline__ void tpk_red_add_f32(float* p, float v) {
    asm volatile("red.relaxed.gpu.global.add.f32 [%0], %1;" ::"l"(p), "f"(v) : "memory");
}

// d += A[16x16] * B[16x8] with f32 accumulators; fragments as in the PTX ISA's m16n8k16 tables.
template <bool BF16>
__device__ __forceinline__ void mma_16816(float (&d)[4], const u32 (&a)[4], u32 b0, u32 b1) {
    if (BF16) {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                     "{%0,%1,%2,%3};"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    } else {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                     "{%0,%1,%2,%3};"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
}

#endif  // TPK_EMULATION

// ---- bounded waits: the same code in the PTX build and in the emulator, which supplies the primitives it calls

// Spins until done() (one try: an acquire load, an mbarrier try_wait) returns true, and traps once the wait has
// lasted TPK_WAIT_BOUND_MS: a kernel that would hang (a phase that never completes, a flag nobody publishes) fails
// its launch instead. A wait whose first try succeeds costs what an unbounded one does: the try and a branch. The
// timer is read after each failed try, not every so many: a try lasts long anyway (try_wait may suspend the
// thread, an acquire load goes to L2), and a spin counter would hold one more register at the Hopper consumers'
// waits, where 160 accumulators are live, and make the LoRA kernels spill.
template <typename Try>
__device__ __forceinline__ void tpk_bounded_wait(Try done) {
    if (done()) return;
    const u64 start = tpk_globaltimer_ns();
    while (!done()) {
        if (tpk_globaltimer_ns() - start > (u64)TPK_WAIT_BOUND_MS * 1000000) tpk_trap();
    }
}

// Waits until *flag == value (acquire). Only for a flag that a block which is running, or has finished,
// publishes: a block that has not started might never be scheduled while this one spins.
__device__ __forceinline__ void tpk_wait_flag(const u32* flag, u32 value) {
    tpk_bounded_wait([&] { return tpk_load_acquire(flag) == value; });
}
