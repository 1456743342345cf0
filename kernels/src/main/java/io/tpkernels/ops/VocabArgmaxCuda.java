package io.tpkernels.ops;

import io.tpkernels.cuda.sources.KernelConstants;
import io.tpkernels.cuda.sources.KernelNames;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.KernelArgs;
import io.tpkernels.runtime.Memory;
import io.tpkernels.runtime.Tensor;

/** {@link VocabArgmax#local} on a GPU: {@code argmax.cu}, one block per token. */
final class VocabArgmaxCuda {
    private VocabArgmaxCuda() {
    }

    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    static void run(Tensor logits, long valid, long start, Tensor values, Tensor ids, ExecutionContext ctx) {
        try (Memory.Access use = Tensor.acquireAll(logits, values, ids)) {
            long t = logits.dim(0);
            if (t == 0) {
                return;
            }
            String name = logits.dtype() == DType.F32 ? KernelNames.TPK_ARGMAX_F32 : KernelNames.TPK_ARGMAX_BF16;
            ctx.kernel(KernelNames.MODULE_ARGMAX, name).launch(ctx, Math.toIntExact(t),
                    KernelConstants.ARGMAX_THREADS, 0,
                    KernelArgs.begin().ptr(values.devicePointer()).ptr(ids.devicePointer()).ptr(logits.devicePointer())
                            .i64(logits.dim(1)).i64(valid).i64(start));
        }
    }
}
