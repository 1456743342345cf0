package io.tpkernels.ops;

import io.tpkernels.cuda.sources.KernelConstants;
import io.tpkernels.cuda.sources.KernelNames;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.KernelArgs;
import io.tpkernels.runtime.Memory;
import io.tpkernels.runtime.Tensor;
import java.util.Locale;

/** {@link SwiGluBackward} on a GPU: {@code tpk_swiglu_backward_<g>_<da>} (swiglu_backward.cu), queued on the stream. */
final class SwiGluBackwardCuda {
    private static final int THREADS = KernelConstants.ELEMENTWISE_THREADS;
    private static final int BLOCKS_PER_SM = 8;

    private SwiGluBackwardCuda() {
    }

    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    static void run(ExecutionContext ctx, Tensor gate, Tensor up, Tensor da, Tensor dGate, Tensor dUp) {
        long n = gate.numel();
        if (n == 0) {
            return;
        }
        int blocks = (int) Math.max(1, Math.min((n + THREADS - 1) / THREADS,
                (long) ctx.cudaDevice().multiprocessors() * BLOCKS_PER_SM));
        try (Memory.Access use = Tensor.acquireAll(gate, up, da, dGate, dUp)) {
            ctx.kernel(KernelNames.MODULE_SWIGLU_BACKWARD, "tpk_swiglu_backward_" + suffix(gate.dtype()) + "_"
                    + suffix(da.dtype())).launch(ctx, blocks, THREADS, 0,
                    KernelArgs.begin().ptr(dGate.devicePointer()).ptr(dUp.devicePointer()).ptr(gate.devicePointer())
                            .ptr(up.devicePointer()).ptr(da.devicePointer()).i64(n));
        }
        ctx.wrote(dGate);
        ctx.wrote(dUp);
    }

    private static String suffix(DType d) {
        return d.name().toLowerCase(Locale.ROOT);
    }
}
