// tpk_constants.cuh: the numbers a kernel and the host code that launches it must agree on. A launch with more
// threads than the kernel's __launch_bounds__ fails; a grid computed for another tile leaves outputs unwritten or
// written twice; dynamic shared memory smaller than the kernel's layout corrupts it. So they are written once,
// here: the kernels include this file, and the build turns it into the Java class
// io.tpkernels.cuda.sources.KernelConstants (cuda-src/generate-java.sh; TPK_GEMM_MMA_BM becomes GEMM_MMA_BM), which
// the launches read.
//
// Hence its form: only `#define TPK_NAME VALUE` lines (a trailing `//` comment allowed, `\` continues a line), each
// VALUE an int expression of decimal literals and earlier TPK_ names with + - * / % << >> and parentheses, which
// C++ and Java evaluate alike. The `//` lines right above a define become its Javadoc. No CUDA: NVRTC, nvcc and
// the CPU emulator's g++ read it as is.
#pragma once

// ---- gemm.cuh: the GEMM bodies of gemm.cu (the LM head, the LoRA linear) and lora_decode.cu

// The mma.sync body: a block per 128 tokens x 128 output columns, k in stages of 32 with 3 in flight (cp.async).
#define TPK_GEMM_MMA_BM 128
#define TPK_GEMM_MMA_BN 128
#define TPK_GEMM_MMA_BK 32
#define TPK_GEMM_MMA_STAGES 3
// 8 warps: 2 (m) x 4 (n), each 64 x 32.
#define TPK_GEMM_MMA_THREADS 256
// A shared-memory row of a stage: BK halves padded by 8 (80 bytes), so ldmatrix's rows fall in distinct banks.
#define TPK_GEMM_MMA_LDS (TPK_GEMM_MMA_BK + 8)
// Its dynamic shared memory: every stage's X and W tiles, in halves.
#define TPK_GEMM_MMA_SMEM_BYTES (TPK_GEMM_MMA_STAGES * (TPK_GEMM_MMA_BM + TPK_GEMM_MMA_BN) * TPK_GEMM_MMA_LDS * 2)

// The decode body: at most 16 tokens (W streamed once), a warp per output column.
#define TPK_GEMM_DECODE_MAX_T 16
#define TPK_GEMM_DECODE_THREADS 256

// The tensor-core decode body (and lora_decode.cu's blocks): 64 output columns per block, split-K over 4 warps,
// k in steps of 32 (one 16-byte load per lane and row).
#define TPK_GEMM_MMA_DECODE_WARPS 4
#define TPK_GEMM_MMA_DECODE_THREADS (32 * TPK_GEMM_MMA_DECODE_WARPS)
#define TPK_GEMM_MMA_DECODE_COLS 64
#define TPK_GEMM_MMA_DECODE_KSTEP 32

// The SIMT body: a block per 64 x 64 tile, 4 x 4 outputs per thread.
#define TPK_GEMM_SIMT_BM 64
#define TPK_GEMM_SIMT_BN 64
#define TPK_GEMM_SIMT_THREADS 256

// gemm.cu's -inf fill of padding columns (after a cuBLAS GEMM): a grid-stride loop.
#define TPK_GEMM_PAD_THREADS 256

// ---- the Hopper GEMMs: gemm_sm90.cu (v1) and gemm_sm90_pingpong.cu (v2)

// Both: k per stage 64 (one 128-byte swizzled row of F16/BF16, the inner dimension of every TMA box).
#define TPK_SM90_BK 64
// Both: three warpgroups, a producer and two consumers.
#define TPK_SM90_CONSUMERS 2
#define TPK_SM90_THREADS (128 * (1 + TPK_SM90_CONSUMERS))
// Both: stages start 1024-byte aligned in shared memory (the 128-byte swizzle repeats every 8 rows of 128 bytes).
#define TPK_SM90_ALIGN 1024

// v1: a block per 128 x 256 output tile, 4 stages.
#define TPK_SM90_V1_BM 128
#define TPK_SM90_V1_BN 256
#define TPK_SM90_V1_STAGES 4
// v1's dynamic shared memory: every stage's X and W tiles, 2 mbarriers per stage, and slack to align the stages.
#define TPK_SM90_V1_SMEM_BYTES \
    (TPK_SM90_V1_STAGES * (TPK_SM90_V1_BM + TPK_SM90_V1_BN) * TPK_SM90_BK * 2 + 2 * TPK_SM90_V1_STAGES * 8 + TPK_SM90_ALIGN)
// With the LoRA shrink on chip (tpk_gemm_wgmma_lora<RB>) each stage also holds A's RB x 64 tile: RB times this more.
#define TPK_SM90_V1_SMEM_BYTES_PER_RANK (TPK_SM90_V1_STAGES * TPK_SM90_BK * 2)

// v2: persistent blocks over 128 x 128 output tiles, 6 stages.
#define TPK_SM90_PP_BM 128
#define TPK_SM90_PP_BN 128
#define TPK_SM90_PP_STAGES 6
// v2's dynamic shared memory: every stage's X and W tiles, 2 mbarriers per stage and a turn per consumer, and slack
// to align the stages.
#define TPK_SM90_PP_SMEM_BYTES                                                                                   \
    (TPK_SM90_PP_STAGES * (TPK_SM90_PP_BM + TPK_SM90_PP_BN) * TPK_SM90_BK * 2 +                                  \
     8 * (2 * TPK_SM90_PP_STAGES + TPK_SM90_CONSUMERS) + TPK_SM90_ALIGN)

// ---- backward_gemm.cu: the backward's GEMMs where cuBLAS is absent or the operands' dtypes differ

// A block per 64 x 64 output tile, k in steps of 16, 4 x 4 outputs per thread.
#define TPK_BACKWARD_GEMM_BM 64
#define TPK_BACKWARD_GEMM_BN 64
#define TPK_BACKWARD_GEMM_THREADS 256

// ---- lm_head_ce.cu: the LM head fused with the cross-entropy, on the mma.sync tiles (TPK_GEMM_MMA_*)

// The backward's products dX += dz·W_tile and dW_tile += dzᵀ·X go through H a slice of this many columns at a time.
#define TPK_LMHEAD_CE_HN 64
// dz's tile in shared memory, [BM][BN] in the input dtype, rows padded to 136 halves so ldmatrix rows fall in
// distinct banks; the slices of W and X, [BN][HN] and [BM][HN], padded to 72 halves.
#define TPK_LMHEAD_CE_LDD (TPK_GEMM_MMA_BN + 8)
#define TPK_LMHEAD_CE_LDH (TPK_LMHEAD_CE_HN + 8)
// Two stages of both slices (over the main loop's stages, which they outlast), then dz's tile.
#define TPK_LMHEAD_CE_SLICES_BYTES (2 * (TPK_GEMM_MMA_BM + TPK_GEMM_MMA_BN) * TPK_LMHEAD_CE_LDH * 2)
#define TPK_LMHEAD_CE_BACKWARD_SMEM_BYTES (TPK_LMHEAD_CE_SLICES_BYTES + TPK_GEMM_MMA_BM * TPK_LMHEAD_CE_LDD * 2)

// ---- the memory-bound kernels: grid-stride loops, so any grid covers any size; threads per block

#define TPK_CAST_THREADS 256
// Elements a cast thread moves per step: one 4-wide vector load and store where both pointers allow.
#define TPK_CAST_ELEMENTS_PER_THREAD 4
#define TPK_ELEMENTWISE_THREADS 256
// cross_entropy.cu: a block per token row; its threads' partial maxima and sums meet in shared memory.
#define TPK_CROSS_ENTROPY_THREADS 256
#define TPK_COLLECTIVE_THREADS 256
// The inputs one reduction adds up (its pointer parameters p0..p15): ranks of one group sharing a GPU.
#define TPK_COLLECTIVE_MAX_INPUTS 16
// A block per token; its warps' candidates meet in shared memory.
#define TPK_ARGMAX_THREADS 256
// A warp per token row.
#define TPK_EMBEDDING_THREADS 256
// The blocks per SM the embedding kernels' __launch_bounds__ ask for: at most 40 registers, no spills.
#define TPK_EMBEDDING_MIN_BLOCKS_PER_SM 6

// ---- device memory

// A stream's scratch (CudaStream.scratch()): memory the kernels queued on one stream share from launch to launch,
// zeroed once. lora_decode.cu's workspace lives there.
#define TPK_STREAM_SCRATCH_BYTES (128 << 10)

// ---- device-side waits (tpk_ptx.cuh: tpk_bounded_wait, behind mbar_wait and tpk_wait_flag)

// How long a kernel waits for an mbarrier phase or a flag of another block, in milliseconds of %globaltimer, before
// it traps (the launch fails instead of hanging): far beyond any wait of a working kernel, which lasts microseconds.
#define TPK_WAIT_BOUND_MS 4000
