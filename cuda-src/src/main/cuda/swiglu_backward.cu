// swiglu_backward.cu: the backward of the SwiGLU gate a = silu(g)⊙u (docs/contract.md, the backward).
//
//   tpk_swiglu_backward_<g>_<d>:  per element, with σ = 1 / (1 + e^−g):
//     dg = da · u · (σ · (1 + g · (1 − σ)))        du = da · (g · σ)        (silu(g) = g · σ)
//   <g>: the type of g and u, <d>: the type of da (F32, F16 or BF16 each); dg and du F32.
//
// In f32, as the CPU path (io.tpkernels.ops.SwiGluBackward) computes it but for silu(g) as g · σ where the CPU
// divides g / (1 + e^−g): a second IEEE division would call its slow path from the loop and spill, and the two
// differ by an ulp or so. Results agree within that and expf's error.
// Where e^−g overflows (g < −88) σ = 0 and both gradients are ±0, never NaN. Memory-bound: a grid-stride loop.
//
// Versions: v1 (this); not yet timed on a GPU.

// tpk-kernels: tpk_swiglu_backward_{f32,f16,bf16}_{f32,f16,bf16}

#include "tpk_common.cuh"

template <typename E, typename D>
__device__ __forceinline__ void swiglu_backward(float* __restrict__ dg, float* __restrict__ du,
                                                const typename E::T* __restrict__ gate,
                                                const typename E::T* __restrict__ up,
                                                const typename D::T* __restrict__ da, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        const float x = E::to_f32(gate[i]);
        const float grad = D::to_f32(da[i]);
        const float e = 1.0f + expf(-x);
        const float sigma = 1.0f / e;
        dg[i] = grad * E::to_f32(up[i]) * (sigma * (1.0f + x * (1.0f - sigma)));
        du[i] = grad * (x * sigma);
    }
}

#define TPK_SWIGLU_BACKWARD(SUFFIX, E, D)                                                                        \
    extern "C" __global__ void __launch_bounds__(TPK_ELEMENTWISE_THREADS)                                       \
    tpk_swiglu_backward_##SUFFIX(float* dg, float* du, const E::T* gate, const E::T* up, const D::T* da,         \
                                 long long n) {                                                                  \
        swiglu_backward<E, D>(dg, du, gate, up, da, n);                                                          \
    }

TPK_SWIGLU_BACKWARD(f32_f32, TpkF32, TpkF32)
TPK_SWIGLU_BACKWARD(f32_f16, TpkF32, TpkF16)
TPK_SWIGLU_BACKWARD(f32_bf16, TpkF32, TpkBF16)
TPK_SWIGLU_BACKWARD(f16_f32, TpkF16, TpkF32)
TPK_SWIGLU_BACKWARD(f16_f16, TpkF16, TpkF16)
TPK_SWIGLU_BACKWARD(f16_bf16, TpkF16, TpkBF16)
TPK_SWIGLU_BACKWARD(bf16_f32, TpkBF16, TpkF32)
TPK_SWIGLU_BACKWARD(bf16_f16, TpkBF16, TpkF16)
TPK_SWIGLU_BACKWARD(bf16_bf16, TpkBF16, TpkBF16)
