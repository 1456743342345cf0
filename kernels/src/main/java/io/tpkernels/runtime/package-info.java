/**
 * Devices, dtypes, tensors and the lifetimes of their memory, CUDA devices, streams, events and kernel launches, the
 * module cache of the packaged kernels, and the {@link io.tpkernels.runtime.ExecutionContext} that every operation
 * and collective runs on.
 *
 * <p>A tensor made by an allocation or an operation owns its memory and frees it on {@code close()}; views and wrappers
 * free nothing. Any use after close is an {@link java.lang.IllegalStateException}, never a crash. On a GPU an operation
 * checks its arguments, queues its work on its context's stream and returns; the host waits only where it reads a
 * result (a copy to the host, an argmax's ids, {@link io.tpkernels.runtime.ExecutionContext#synchronize()}). The design
 * is described in the architecture notes,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/architecture.md#2-the-runtime">section 2</a>, and the
 * semantics every operation keeps in
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md">the contract</a>.
 */
package io.tpkernels.runtime;
