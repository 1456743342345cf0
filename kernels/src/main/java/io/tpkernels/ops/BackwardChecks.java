package io.tpkernels.ops;

import io.tpkernels.ops.cpu.CpuGemm.Operand;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;

/** What the backward operations check alike: their F32 gradient outputs, and their operands on the host. */
final class BackwardChecks {
    private BackwardChecks() {
    }

    /** {@code out} must be an F32 {@code [rows, cols]} gradient on {@code like}'s device. */
    static void requireF32(String op, String name, Tensor out, Tensor like, long rows, long cols) {
        if (out.dtype() != DType.F32 || out.rank() != 2 || out.dim(0) != rows || out.dim(1) != cols
                || !out.device().equals(like.device())) {
            throw new IllegalArgumentException(op + ": " + name + " must be [" + rows + ", " + cols + "] F32 on "
                    + like.device() + ", got " + out.describe());
        }
    }

    /** A 2-D host tensor as a GEMM operand: its rows contiguous, read in its stored dtype. */
    static Operand operand(Tensor t) {
        return new Operand(t.hostSegment(), t.dtype(), t.dim(0), t.dim(1), t.dim(1));
    }
}
