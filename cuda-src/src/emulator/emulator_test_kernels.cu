// emulator_test_kernels.cu: kernels that break the rules on purpose, so emulator_test.cpp can check that the
// emulator says so. Compiled only into the emulator's self-test, never into PTX or the emulated driver.
#include "kernel_registry.h"
#include "tpk_common.cuh"

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

static const tpk_emu::KernelEntry emu_test_kernels[] = {
    tpk_emu::kernel_entry("emu_test_copy_then_read", &emu_test_copy_then_read),
    tpk_emu::kernel_entry("emu_test_divergent_barrier", &emu_test_divergent_barrier),
    tpk_emu::kernel_entry("emu_test_divergent_shuffle", &emu_test_divergent_shuffle),
};
static const bool emu_test_registered = tpk_emu::register_kernels(emu_test_kernels, 3);
