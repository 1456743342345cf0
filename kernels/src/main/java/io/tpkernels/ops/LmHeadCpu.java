package io.tpkernels.ops;

import io.tpkernels.ops.cpu.CpuGemm;
import io.tpkernels.runtime.Tensor;
import java.lang.foreign.MemorySegment;

/** The CPU reference of {@link LmHead}: the shared blocked GEMM for the valid columns, then −∞ for padding. */
final class LmHeadCpu {
    private LmHeadCpu() {
    }

    static void run(Tensor x, Tensor w, Tensor out) {
        long t = x.dim(0);
        long h = x.dim(1);
        long valid = w.dim(0);
        long s = out.dim(1);
        MemorySegment o = out.hostSegment();
        CpuGemm.multiplyNT(new CpuGemm.Operand(x.hostSegment(), x.dtype(), t, h, h),
                new CpuGemm.Operand(w.hostSegment(), w.dtype(), valid, h, h), o, out.dtype(), s);
        for (long row = 0; row < t; row++) {
            for (long j = valid; j < s; j++) {
                out.dtype().setFloat(o, row * s + j, Float.NEGATIVE_INFINITY);
            }
        }
    }
}
