// train.cu: the optimizer step on the GPU (docs/contract.md, "AdamW and gradient clipping"), and the global-norm
// clipping before it.
//
//   tpk_adamw_f32:  per element, with the step's constants computed on the host in double:
//     m ← β1·m + (1 − β1)·g
//     v ← β2·v + ((1 − β2)·g)·g
//     p ← p·decay − (lr·(m/c1)) / (√(v/c2) + ε)        decay = 1 − lr·wd, c1 = 1 − β1ᵗ, c2 = 1 − β2ᵗ
//   m and v rounded to f32 before p uses them, p once at the end.
//
// Every operation is a double one rounded as written (tpk_dmul and friends: no fused multiply-adds), in the order
// the CPU path (io.tpkernels.train.AdamW) writes it, so the GPU step gives the CPU's bits and a replicated
// parameter is the same everywhere, whichever device stepped it. Memory-bound: a grid-stride loop; double
// arithmetic costs nothing here next to the 16 bytes per element it reads and writes.
//
//   tpk_square_sum_blocks_f32:  partials[b] = Σ g² over block b's elements, in double
//   tpk_square_sum_add:         total += Σ_b partials[b] (one block), and total_f32 = total rounded, where asked
//   tpk_scale_f32:              g ← round(g · factor), the product in double
// The clipping's sums are trees over a fixed grid (the host picks it from n alone), never atomics: the same gradient
// gives the same bits on every rank and every device, so a replicated parameter's square-sum, and with it the norm
// and the scaled gradients, are identical everywhere.
//
// Versions: v1 (this); not yet timed on a GPU.

// tpk-kernels: tpk_adamw_f32 tpk_square_sum_blocks_f32 tpk_square_sum_add tpk_scale_f32

#include "tpk_common.cuh"

extern "C" __global__ void __launch_bounds__(TPK_ELEMENTWISE_THREADS)
tpk_adamw_f32(float* p, float* m, float* v, const float* __restrict__ g, long long n, double beta1, double beta2,
              double decay, double lr, double c1, double c2, double eps) {
    const double one_minus_beta1 = tpk_dsub(1.0, beta1);
    const double one_minus_beta2 = tpk_dsub(1.0, beta2);
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        const double gi = g[i];
        const float mi = tpk_d2f(tpk_dadd(tpk_dmul(beta1, (double)m[i]), tpk_dmul(one_minus_beta1, gi)));
        const float vi = tpk_d2f(tpk_dadd(tpk_dmul(beta2, (double)v[i]), tpk_dmul(tpk_dmul(one_minus_beta2, gi), gi)));
        const double step = tpk_ddiv(tpk_dmul(lr, tpk_ddiv((double)mi, c1)), tpk_dadd(tpk_dsqrt(tpk_ddiv((double)vi, c2)), eps));
        p[i] = tpk_d2f(tpk_dsub(tpk_dmul((double)p[i], decay), step));
        m[i] = mi;
        v[i] = vi;
    }
}

// The sum of the block's values in a fixed tree order, for thread 0. blockDim.x is TPK_ELEMENTWISE_THREADS.
__device__ __forceinline__ double train_block_sum(double v, double* smem) {
    smem[threadIdx.x] = v;
    __syncthreads();
    for (int half = TPK_ELEMENTWISE_THREADS / 2; half > 0; half >>= 1) {
        if ((int)threadIdx.x < half) smem[threadIdx.x] = tpk_dadd(smem[threadIdx.x], smem[threadIdx.x + half]);
        __syncthreads();
    }
    return smem[0];
}

extern "C" __global__ void __launch_bounds__(TPK_ELEMENTWISE_THREADS)
tpk_square_sum_blocks_f32(double* partials, const float* __restrict__ g, long long n) {
    __shared__ double smem[TPK_ELEMENTWISE_THREADS];
    double sum = 0;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        const double x = g[i];
        sum = tpk_dadd(sum, tpk_dmul(x, x));
    }
    sum = train_block_sum(sum, smem);
    if (threadIdx.x == 0) partials[blockIdx.x] = sum;
}

extern "C" __global__ void __launch_bounds__(TPK_ELEMENTWISE_THREADS)
tpk_square_sum_add(double* total, float* total_f32, const double* __restrict__ partials, int count) {
    __shared__ double smem[TPK_ELEMENTWISE_THREADS];
    double sum = 0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) sum = tpk_dadd(sum, partials[i]);
    sum = train_block_sum(sum, smem);
    if (threadIdx.x == 0) {
        const double t = tpk_dadd(*total, sum);
        *total = t;
        if (total_f32 != nullptr) *total_f32 = tpk_d2f(t);
    }
}

extern "C" __global__ void __launch_bounds__(TPK_ELEMENTWISE_THREADS)
tpk_scale_f32(float* g, long long n, double factor) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        g[i] = tpk_d2f(tpk_dmul((double)g[i], factor));
    }
}
