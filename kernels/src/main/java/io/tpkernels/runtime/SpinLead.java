package io.tpkernels.runtime;

import io.tpkernels.cuda.sources.KernelNames;

/**
 * Keeps a stream's GPU busy for a while ({@code tpk_spin} of {@code timing.cu}), queued ahead of a start event, so
 * that events time the work after it and not the host's launch latency. A timed run usually waits for the one
 * before it, so without a lead its start event is recorded on an idle stream: the GPU passes it at once and then
 * waits for the host to issue the launches, microseconds that count against a kernel of tens of microseconds.
 */
public final class SpinLead {
    /** How long the GPU spins: far more than issuing a few launches takes. */
    public static final long NANOS = 200_000;

    private SpinLead() {
    }

    /**
     * Queues the spin on {@code stream}; record the start event right after.
     *
     * @param stream the stream whose next timed work the spin runs before
     */
    public static void queue(CudaStream stream) {
        stream.device().modules().kernel(KernelNames.MODULE_TIMING, KernelNames.TPK_SPIN).launch(stream, 1, 1, 0,
                KernelArgs.begin().i64(NANOS));
    }
}
