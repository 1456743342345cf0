/* tpk_emu.h: the seam between the emulated CUDA driver (driver.c) and the emulated device (device.cpp).
 *
 * The emulator runs the project's own kernel sources (every .cu file of the cuda-src module), compiled for the host,
 * one CUDA thread per fiber, warps, warpgroups and blocks in lock-step at every collective (__syncthreads,
 * shuffles, ldmatrix, mma, wgmma), with mbarrier waits and TMA loads as on sm_90a. It exists so the CUDA paths
 * of the Java code (bindings, launch arguments, kernel choice, the kernels' index math) can be tested on a
 * machine without a GPU. It says nothing about speed, and it is never found unless asked for
 * (TPK_CUDA_LIBRARY_PATH pointing at its folder).
 */
#ifndef TPK_EMU_H
#define TPK_EMU_H

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when a kernel of this name was compiled into the emulator, 0 otherwise. */
int tpk_emu_has_kernel(const char* name);

/* Runs the kernel to completion on the calling thread (launches are serialized: one at a time per process).
 * params is cuLaunchKernel's kernelParams: params[i] points at the i-th argument's value.
 * Returns 0 on success. On failure (unknown kernel, bad launch shape, a deadlock at a barrier, collective or
 * mbarrier, a trap (a bounded wait that expired), a collective with missing lanes, a race on shared memory)
 * returns nonzero and writes a one-line reason into err. */
int tpk_emu_launch(const char* name, const unsigned grid[3], const unsigned block[3], unsigned dynamic_smem_bytes,
                   void** params, char* err, unsigned long errlen);

#ifdef __cplusplus
}
#endif
#endif
