// cross_entropy.cuh: what the vocab-parallel cross-entropy's kernels share (cross_entropy.cu, and the LM head fused
// with the loss in lm_head_ce.cu): the targets, Java's max on floats, and the fold of two sets of a row's running
// statistics (docs/contract.md, "Vocab-parallel cross-entropy", fused form).
#pragma once
#include "tpk_common.cuh"

#define TPK_CE_IGNORE_INDEX (-100LL)

__device__ __forceinline__ long long ce_target(const void* targets, int i64, long long t) {
    return i64 ? ((const long long*)targets)[t] : (long long)((const int*)targets)[t];
}

// Java's Math.max on floats: a NaN wins, and +0 over −0 (the and of equal values' bits clears a lone sign).
__device__ __forceinline__ float ce_max(float a, float b) {
    if (a != a) return a;
    if (b != b) return b;
    return a > b ? a : a < b ? b : __uint_as_float(__float_as_uint(a) & __float_as_uint(b));
}

// A row's statistics over some of its columns: their maximum m, against it the ties (how many equal m: each
// exp(0) = 1, counted exactly) and the rest (Σ_{z < m} exp(z − m)).
struct CeStats {
    float max;
    double ties;
    double rest;
};

// b's columns folded into a's: ties and rest added where the maxima are equal, else the smaller side's ties + rest
// times exp(m_small − m_large) into the larger side's rest, in double; a NaN on either side makes the canonical NaN.
__device__ __forceinline__ CeStats ce_fold(const CeStats& a, const CeStats& b) {
    if (a.max != a.max || b.max != b.max) {
        const float nan = __uint_as_float(0x7fc00000u);
        return {nan, 0.0, (double)nan};
    }
    if (a.max == b.max) return {a.max, tpk_dadd(a.ties, b.ties), tpk_dadd(a.rest, b.rest)};
    // Scalars, not references to a or b: a selected reference puts both in local memory.
    const bool a_big = a.max > b.max;
    const float big_max = a_big ? a.max : b.max, small_max = a_big ? b.max : a.max;
    const double big_ties = a_big ? a.ties : b.ties, big_rest = a_big ? a.rest : b.rest;
    const double small_sum = a_big ? tpk_dadd(b.ties, b.rest) : tpk_dadd(a.ties, a.rest);
    const double scaled = tpk_dmul(small_sum, exp(tpk_dsub((double)small_max, (double)big_max)));
    return {big_max, big_ties, tpk_dadd(big_rest, scaled)};
}
