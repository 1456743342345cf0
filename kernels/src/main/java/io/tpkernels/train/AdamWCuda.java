package io.tpkernels.train;

import io.tpkernels.cuda.sources.KernelConstants;
import io.tpkernels.cuda.sources.KernelNames;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.KernelArgs;
import io.tpkernels.runtime.Memory;
import io.tpkernels.runtime.Tensor;

/** {@link AdamW}'s step of one parameter on a GPU: {@code tpk_adamw_f32} (train.cu), queued on the context's stream. */
final class AdamWCuda {
    private static final int THREADS = KernelConstants.ELEMENTWISE_THREADS;
    private static final int BLOCKS_PER_SM = 8;

    private AdamWCuda() {
    }

    /** The step's constants are the CPU path's, computed here in double; the kernel does the rest as it does. */
    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    static void update(ExecutionContext ctx, Parameter param, Tensor m, Tensor v, AdamWConfig config, double lr, long t) {
        long n = m.numel();
        if (n == 0) {
            return;
        }
        double decay = 1 - lr * config.weightDecay();
        double correction1 = 1 - Math.pow(config.beta1(), t);
        double correction2 = 1 - Math.pow(config.beta2(), t);
        int blocks = (int) Math.max(1, Math.min((n + THREADS - 1) / THREADS,
                (long) ctx.cudaDevice().multiprocessors() * BLOCKS_PER_SM));
        try (Memory.Access use = Tensor.acquireAll(param.value(), param.grad(), m, v)) {
            ctx.kernel(KernelNames.MODULE_TRAIN, KernelNames.TPK_ADAMW_F32).launch(ctx, blocks, THREADS, 0,
                    KernelArgs.begin().ptr(param.value().devicePointer()).ptr(m.devicePointer())
                            .ptr(v.devicePointer()).ptr(param.grad().devicePointer()).i64(n).f64(config.beta1())
                            .f64(config.beta2()).f64(decay).f64(lr).f64(correction1).f64(correction2).f64(config.eps()));
        }
        ctx.wrote(param.value());
        ctx.wrote(m);
        ctx.wrote(v);
    }
}
