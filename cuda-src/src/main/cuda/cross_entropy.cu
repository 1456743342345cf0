// cross_entropy.cu: the vocab-parallel cross-entropy of docs/contract.md, "Vocab-parallel cross-entropy", on one rank's
// padded logits shard z [T, S] (F32, rows S apart, valid columns j < valid, global id start + j). Between the launches
// the host all-reduces row_max (MAX) and packed (SUM) over the tensor-parallel group.
//
//   tpk_ce_row_max:     row_max[t] = max_{j < valid} z[t, j], a NaN wins (Java's Math.max); −∞ when valid = 0
//   tpk_ce_sum_target:  packed[t] = (ties, rest, target): ties = #{j : z[t, j] = M_t} (each exp(0) = 1, counted
//                       exactly), rest = Σ_{z < M_t} exp(z − M_t) in double rounded once, target = z[t, y_t − start]
//                       if this rank holds y_t, else 0; (0, 0, 0) for an ignored token (y_t = −100)
//   tpk_ce_finish:      sum_exp[t] = (ties, rest); loss[t] = log(ties + rest) + (M_t − target) in double (0 if
//                       ignored) and ids[t] = y_t, for the host to check the targets and take the mean in token order
//   tpk_ce_merge:       the fused form's fold of one chunk of columns into the running statistics (max, ties, rest,
//                       target): ties and rest added where the maxima are equal, else the smaller side's ties + rest
//                       times exp(m_small − m_large) into the rest, in double rounded once; targets added
//   tpk_ce_rebase:      the fused form's step between its two collectives (io.tpkernels.ops.LmHeadCrossEntropy):
//                       packed[t] was taken against this rank's own maximum m_t; against the global M_t it is
//                       (ties, rest) if m_t = M_t, else (0, (ties + rest)·exp(m_t − M_t)) in double rounded once
//   tpk_ce_gradient:    dz[t, j] = scale · (exp(z − M_t) / (ties + rest) − [j = y_t − start]) in double rounded once,
//                       the target's as ((e − ties) − rest) / (ties + rest) so that 1 − softmax keeps its relative
//                       accuracy; exactly 0 in padding columns, in ignored rows, and everywhere when live = 0
//
// The arithmetic is the CPU path's (io.tpkernels.ops.VocabParallelCrossEntropyCpu), per element in the same order;
// the row sums are taken as a tree over a block's threads instead of left to right, so the two agree to the last
// bits of a double sum, rounded to f32. A block per token row (grid-stride over rows); its threads stride the columns
// and meet in shared memory in a fixed order, so a result never depends on timing. Targets are I64 or I32 (i64).
//
// Versions: v1 (this); not yet timed on a GPU.

// tpk-kernels: tpk_ce_row_max tpk_ce_sum_target tpk_ce_finish tpk_ce_gradient tpk_ce_rebase tpk_ce_merge

#include "cross_entropy.cuh"

// The block's values combined by op in a fixed tree order; every thread gets the result. blockDim.x is
// TPK_CROSS_ENTROPY_THREADS, a power of two. Every thread of the block must call it.
template <typename V, typename Op>
__device__ __forceinline__ V ce_block_reduce(V v, V* smem, Op op) {
    smem[threadIdx.x] = v;
    __syncthreads();
    for (int half = TPK_CROSS_ENTROPY_THREADS / 2; half > 0; half >>= 1) {
        if ((int)threadIdx.x < half) smem[threadIdx.x] = op(smem[threadIdx.x], smem[threadIdx.x + half]);
        __syncthreads();
    }
    const V r = smem[0];
    __syncthreads();  // smem is free for the next call
    return r;
}

extern "C" __global__ void __launch_bounds__(TPK_CROSS_ENTROPY_THREADS)
tpk_ce_row_max(float* row_max, const float* __restrict__ z, long long T, long long S, long long valid) {
    __shared__ float smem[TPK_CROSS_ENTROPY_THREADS];
    for (long long t = blockIdx.x; t < T; t += gridDim.x) {
        float m = tpk_neg_inf();
        for (long long j = threadIdx.x; j < valid; j += blockDim.x) m = ce_max(m, z[t * S + j]);
        m = ce_block_reduce(m, smem, [](float a, float b) { return ce_max(a, b); });
        if (threadIdx.x == 0) row_max[t] = m;
    }
}

extern "C" __global__ void __launch_bounds__(TPK_CROSS_ENTROPY_THREADS)
tpk_ce_sum_target(float* packed, const float* __restrict__ z, const void* targets, int i64,
                  const float* __restrict__ row_max, long long T, long long S, long long valid, long long start) {
    __shared__ double smem[TPK_CROSS_ENTROPY_THREADS];
    const auto add = [](double a, double b) { return tpk_dadd(a, b); };
    for (long long t = blockIdx.x; t < T; t += gridDim.x) {
        const long long id = ce_target(targets, i64, t);  // the same for the whole block: the branch is uniform
        if (id == TPK_CE_IGNORE_INDEX) {
            if (threadIdx.x == 0) packed[3 * t] = packed[3 * t + 1] = packed[3 * t + 2] = 0.f;
            continue;
        }
        const float max = row_max[t];
        double ties = 0;  // a count, exact in double
        double rest = 0;
        for (long long j = threadIdx.x; j < valid; j += blockDim.x) {
            const float v = z[t * S + j];
            if (v == max) {
                ties += 1;
            } else {
                rest = tpk_dadd(rest, exp(tpk_dsub((double)v, (double)max)));  // NaN when the maximum is NaN or ∞
            }
        }
        ties = ce_block_reduce(ties, smem, add);
        rest = ce_block_reduce(rest, smem, add);
        if (threadIdx.x == 0) {
            packed[3 * t] = (float)ties;
            packed[3 * t + 1] = tpk_d2f(rest);
            packed[3 * t + 2] = id >= start && id < start + valid ? z[t * S + (id - start)] : 0.f;
        }
    }
}

extern "C" __global__ void __launch_bounds__(TPK_CROSS_ENTROPY_THREADS)
tpk_ce_finish(float* sum_exp, double* loss, long long* ids, const float* __restrict__ packed,
              const float* __restrict__ row_max, const void* targets, int i64, long long T) {
    for (long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x; t < T; t += (long long)gridDim.x * blockDim.x) {
        const float ties = packed[3 * t];
        const float rest = packed[3 * t + 1];
        const long long id = ce_target(targets, i64, t);
        sum_exp[2 * t] = ties;
        sum_exp[2 * t + 1] = rest;
        loss[t] = id == TPK_CE_IGNORE_INDEX ? 0.0
                : tpk_dadd(log(tpk_dadd((double)ties, (double)rest)),
                           tpk_dsub((double)row_max[t], (double)packed[3 * t + 2]));
        ids[t] = id;
    }
}

extern "C" __global__ void __launch_bounds__(TPK_CROSS_ENTROPY_THREADS)
tpk_ce_gradient(float* dz, const float* __restrict__ z, const void* targets, int i64, const float* __restrict__ row_max,
                const float* __restrict__ sum_exp, long long T, long long S, long long valid, long long start,
                double scale, int live) {
    for (long long t = blockIdx.x; t < T; t += gridDim.x) {
        const long long id = ce_target(targets, i64, t);
        const bool row_live = live && id != TPK_CE_IGNORE_INDEX;
        const double max = row_max[t];
        const double ties = sum_exp[2 * t];
        const double rest = sum_exp[2 * t + 1];
        const double sum = tpk_dadd(ties, rest);
        const long long hot = row_live && id >= start && id < start + valid ? id - start : -1;
        for (long long j = threadIdx.x; j < S; j += blockDim.x) {
            float g = 0.f;
            if (row_live && j < valid) {
                const double e = exp(tpk_dsub((double)z[t * S + j], max));
                g = tpk_d2f(tpk_dmul(scale, j == hot ? tpk_ddiv(tpk_dsub(tpk_dsub(e, ties), rest), sum)
                                                     : tpk_ddiv(e, sum)));
            }
            dz[t * S + j] = g;
        }
    }
}

extern "C" __global__ void __launch_bounds__(TPK_CROSS_ENTROPY_THREADS)
tpk_ce_rebase(float* packed, const float* __restrict__ local_max, const float* __restrict__ row_max, long long T) {
    for (long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x; t < T; t += (long long)gridDim.x * blockDim.x) {
        const float m = local_max[t];
        const float M = row_max[t];
        if (m == M) continue;  // this rank holds the maximum: its ties are the row's
        const double both = (double)packed[3 * t] + (double)packed[3 * t + 1];
        packed[3 * t] = 0.0f;
        packed[3 * t + 1] = (float)(both * exp((double)m - (double)M));  // NaN when either maximum is NaN
    }
}

extern "C" __global__ void __launch_bounds__(TPK_CROSS_ENTROPY_THREADS)
tpk_ce_merge(float* run_max, float* run_packed, const float* __restrict__ max, const float* __restrict__ packed,
             long long T) {
    for (long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x; t < T; t += (long long)gridDim.x * blockDim.x) {
        const CeStats a = {run_max[t], run_packed[3 * t], run_packed[3 * t + 1]};
        const CeStats b = {max[t], packed[3 * t], packed[3 * t + 1]};
        const CeStats m = ce_fold(a, b);
        run_max[t] = m.max;
        run_packed[3 * t] = (float)m.ties;
        run_packed[3 * t + 1] = tpk_d2f(m.rest);
        run_packed[3 * t + 2] += packed[3 * t + 2];  // at most one side holds the target
    }
}
