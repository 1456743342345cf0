// timing.cu: what a benchmark puts on a stream around the work it times, not part of any model.
//
//   tpk_spin(ns): one thread busy-waits until ns nanoseconds of the GPU's global timer have passed.
//
// Why: a benchmark records its start event on an idle stream, so the GPU reaches that event at once and then
// waits for the host to issue the timed launches: a few microseconds per launch that the events would count,
// about a tenth of a decode GEMM's time. Queued first, the spin keeps the GPU busy while the host issues the
// start event, the work and the end event, so the events see the work back to back, as in a model's stream.
//
// Versions: v1 (this); not yet run on a GPU.

// tpk-kernels: tpk_spin

#include "tpk_common.cuh"

extern "C" __global__ void tpk_spin(unsigned long long ns) {
    const u64 start = tpk_globaltimer_ns();
    while (tpk_globaltimer_ns() - start < ns) {
    }
}
