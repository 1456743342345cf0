// cuda_host.h: the slice of the CUDA C++ language the project's kernels use, for the host compiler.
//
// Force-included (-include) before each kernel file when the emulator is built: keywords become plain C++,
// the built-in variables read the running fiber's state (device.cpp), and every warp- or block-wide
// operation is a collective of the fibers of that warp or block. Anything a kernel uses that is missing
// here fails to compile, which is the point: the emulator never guesses.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <type_traits>

#define TPK_EMULATION 1
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __grid_constant__  // a kernel parameter the kernel may take the address of (a TMA descriptor)
// Static __shared__ arrays become function statics: one copy for the block that is running (blocks run one
// at a time, launches one at a time).
#define __shared__ static

struct uint3 { unsigned x, y, z; };
struct alignas(16) uint4 { unsigned x, y, z, w; };

namespace tpk_emu {
// The running fiber's coordinates and the launch's shape (device.cpp).
const uint3& thread_idx();
const uint3& block_idx();
const uint3& block_dim();
const uint3& grid_dim();
unsigned char* dynamic_smem();

// Stops the launch with a reason (the driver returns CUDA_ERROR_LAUNCH_FAILED). Never returns.
[[noreturn]] void fail(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Block barrier: every thread of the block must arrive; a thread that exited makes it a failure.
void sync_threads();

// A warp collective: every lane of the warp arrives with the same op; the last to arrive runs
// compute(ins, outs, lanes) for all lanes, then all continue. ins[l]/outs[l] are lane l's pointers.
typedef void (*Collective)(const void* const* ins, void* const* outs, int lanes);
void warp_collective(const char* op, Collective compute, const void* in, void* out);

// Fails the launch unless p is 'bytes'-aligned, as a vector access needs on a GPU. (Bounds are the driver's
// guard pages: an access past an allocation faults.)
void check_global_alignment(const void* p, unsigned long bytes, const char* what);
}  // namespace tpk_emu

#define threadIdx (tpk_emu::thread_idx())
#define blockIdx (tpk_emu::block_idx())
#define blockDim (tpk_emu::block_dim())
#define gridDim (tpk_emu::grid_dim())

inline void __syncthreads() { tpk_emu::sync_threads(); }

inline int min(int a, int b) { return a < b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }

inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }

template <typename T>
inline T __ldg(const T* p) {
    tpk_emu::check_global_alignment(p, sizeof(T), "__ldg");
    return *p;
}

// atomicMin on 64-bit unsigned: fibers of one launch run on one OS thread, one at a time.
inline unsigned long long atomicMin(unsigned long long* p, unsigned long long v) {
    tpk_emu::check_global_alignment(p, 8, "atomicMin");
    const unsigned long long old = *p;
    if (v < old) *p = v;
    return old;
}

namespace tpk_emu {
template <typename T>
struct ShflXor {
    unsigned mask;
    int lane_mask;
    T value;
};
template <typename T>
void shfl_xor_compute(const void* const* ins, void* const* outs, int lanes) {
    for (int l = 0; l < lanes; l++) {
        const ShflXor<T>& mine = *static_cast<const ShflXor<T>*>(ins[l]);
        if (mine.mask != 0xffffffffu || lanes != 32) fail("__shfl_xor_sync with mask %#x over %d lanes", mine.mask, lanes);
        const int src = l ^ mine.lane_mask;
        if (src >= lanes) fail("__shfl_xor_sync: lane %d reads lane %d of %d", l, src, lanes);
        *static_cast<T*>(outs[l]) = static_cast<const ShflXor<T>*>(ins[src])->value;
    }
}
}  // namespace tpk_emu

template <typename T>
inline T __shfl_xor_sync(unsigned mask, T value, int lane_mask) {
    static_assert(std::is_arithmetic<T>::value, "shuffle of a non-arithmetic type");
    const tpk_emu::ShflXor<T> in{mask, lane_mask, value};
    T out;
    tpk_emu::warp_collective(sizeof(T) == 8 ? "__shfl_xor_sync.b64" : "__shfl_xor_sync.b32",
                             &tpk_emu::shfl_xor_compute<T>, &in, &out);
    return out;
}
