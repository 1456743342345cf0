// elementwise.cu: the element-wise steps of the demo model (docs/contract.md sections 7 and 13).
//
//   tpk_silu_mul_<t>:  out[i] = silu(gate[i]) · up[i],   silu(g) = g / (1 + e^−g)
//   tpk_add_<t>:       out[i] = a[i] + b[i]               (out may be a: the residual update in place)
//   tpk_add_bias_<t>:  out[t, j] = a[t, j] + bias[j]      (the row-parallel bias, added after the collective)
//   tpk_scale_columns_<t>:  out[t, j] = a[t, j] · c[j]    (c F32: DoRA's column scale, row-parallel, before the bias)
//
// Each computes in f32 and rounds once to the storage type; the CPU reference (io.tpkernels.ops.Elementwise)
// does the same, so results agree to the last bit for add and the column scale and within expf's error for silu.
// Memory-bound and tiny next to the GEMMs around them: a grid-stride loop, one element per step.
//
// Versions: v1 (this) scalar grid-stride loop; not yet timed on a GPU.

// tpk-kernels: tpk_{silu_mul,add,add_bias,scale_columns}_{f32,f16,bf16}

#include "tpk_common.cuh"

template <typename E>
__device__ __forceinline__ void silu_mul(typename E::T* out, const typename E::T* __restrict__ gate,
                                         const typename E::T* __restrict__ up, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        const float g = E::to_f32(gate[i]);
        out[i] = E::from_f32(g / (1.0f + expf(-g)) * E::to_f32(up[i]));
    }
}

// No __restrict__ on out and a: they may be the same tensor.
template <typename E>
__device__ __forceinline__ void add(typename E::T* out, const typename E::T* a, const typename E::T* __restrict__ b,
                                    long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        out[i] = E::from_f32(E::to_f32(a[i]) + E::to_f32(b[i]));
    }
}

template <typename E>
__device__ __forceinline__ void add_bias(typename E::T* out, const typename E::T* a,
                                         const typename E::T* __restrict__ bias, long long n, long long cols) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        out[i] = E::from_f32(E::to_f32(a[i]) + E::to_f32(bias[i % cols]));
    }
}

// The scale is F32 whatever a's type: it is the one DoRA computes at load, in f32.
template <typename E>
__device__ __forceinline__ void scale_columns(typename E::T* out, const typename E::T* a,
                                              const float* __restrict__ scale, long long n, long long cols) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        out[i] = E::from_f32(E::to_f32(a[i]) * scale[i % cols]);
    }
}

#define TPK_ELEMENTWISE(SUFFIX, E)                                                                          \
    extern "C" __global__ void __launch_bounds__(TPK_ELEMENTWISE_THREADS)                                   \
    tpk_silu_mul_##SUFFIX(E::T* out, const E::T* gate, const E::T* up, long long n) {                       \
        silu_mul<E>(out, gate, up, n);                                                                      \
    }                                                                                                       \
    extern "C" __global__ void __launch_bounds__(TPK_ELEMENTWISE_THREADS)                                   \
    tpk_add_##SUFFIX(E::T* out, const E::T* a, const E::T* b, long long n) { add<E>(out, a, b, n); }        \
    extern "C" __global__ void __launch_bounds__(TPK_ELEMENTWISE_THREADS)                                   \
    tpk_add_bias_##SUFFIX(E::T* out, const E::T* a, const E::T* bias, long long n, long long cols) {        \
        add_bias<E>(out, a, bias, n, cols);                                                                 \
    }                                                                                                       \
    extern "C" __global__ void __launch_bounds__(TPK_ELEMENTWISE_THREADS)                                   \
    tpk_scale_columns_##SUFFIX(E::T* out, const E::T* a, const float* scale, long long n, long long cols) { \
        scale_columns<E>(out, a, scale, n, cols);                                                           \
    }

TPK_ELEMENTWISE(f32, TpkF32)
TPK_ELEMENTWISE(f16, TpkF16)
TPK_ELEMENTWISE(bf16, TpkBF16)
