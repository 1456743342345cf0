package io.tpkernels.collective;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import java.util.Arrays;

/**
 * The check of a collective's arguments, run by every rank on what every rank passed, once the ranks have
 * exchanged it ({@link LocalGroup} posts, {@link NcclGroup} all-gathers headers). Each rank sees the same calls and
 * runs the same code, so a mismatch, a dimension out of range or a split that does not divide is the same error
 * on every rank, naming the rank and both shapes. Nothing about the arguments is checked on one rank before the
 * exchange: that rank would fail alone with a message naming one shape, and the others would wait for it or
 * learn only that it failed.
 */
final class Agreement {
    /** The {@code dim} or {@code dim2} of a collective that takes none. */
    static final int NO_DIM = Integer.MIN_VALUE;

    private Agreement() {
    }

    /**
     * What one rank passed to one collective.
     *
     * @param op     the collective ({@code "allReduce"}, …)
     * @param shape  the tensor's shape, or {@code null} where the rank passed none (a barrier; a scatter off the root)
     * @param dtype  the tensor's dtype, or {@code null} with no tensor
     * @param device where the tensor is, or {@code null} where ranks run on different devices by design (NCCL)
     * @param root   the root rank, or -1 where the collective has none
     * @param dim    the dimension as passed (negative counts from the end), or {@link #NO_DIM}
     * @param dim2   allToAll's concat dimension as passed, or {@link #NO_DIM}
     * @param reduce the reduction, or {@code null}
     */
    record Call(String op, long[] shape, DType dtype, String device, int root, int dim, int dim2, ReduceOp reduce) {

        /** The call of a rank that passed {@code t} (or {@code null}); the device is {@code t}'s. */
        static Call of(String op, Tensor t, int root, int dim, int dim2, ReduceOp reduce) {
            return new Call(op, t == null ? null : t.shape(), t == null ? null : t.dtype(),
                    t == null ? null : t.device().toString(), root, dim, dim2, reduce);
        }

        /**
         * What {@link #problem} would say if every one of {@code size} ranks passed this call: the checks one rank can
         * make alone (dimensions in range, splits that divide, a root in the group).
         */
        String localProblem(int size) {
            Call[] same = new Call[size];
            Arrays.fill(same, this);
            return problem(same);
        }

        /** The tensor as messages name it: {@code [4, 5] F32 on cpu}, as {@link Tensor#describe()} does. */
        String describe() {
            return shape == null ? "no tensor"
                    : Arrays.toString(shape) + " " + dtype + (device == null ? "" : " on " + device);
        }

        /** Same shape, dtype and device. */
        boolean sameTensor(Call o) {
            return Arrays.equals(shape, o.shape) && dtype == o.dtype && java.util.Objects.equals(device, o.device);
        }
    }

    /** {@code dim} counted from the front of a rank-{@code rank} tensor, or -1 where it is outside. */
    static int normalize(int dim, int rank) {
        int d = dim < 0 ? rank + dim : dim;
        return d >= 0 && d < rank ? d : -1;
    }

    private static boolean hasRoot(String op) {
        return op.equals("broadcast") || op.equals("scatterFromRank");
    }

    /** Whether only the root passes a tensor (the others learn its shape from the exchange). */
    private static boolean rootOnly(String op) {
        return op.equals("scatterFromRank");
    }

    /** Whether {@code dim} is cut into one slab per rank, and so must divide. */
    private static boolean splits(String op) {
        return op.equals("reduceScatter") || op.equals("allToAll") || op.equals("scatterFromRank");
    }

    /**
     * Why {@code calls} (rank r's at index r) cannot go ahead together, in a sentence that is the same on every
     * rank and names the rank and both shapes; {@code null} when they can.
     */
    static String problem(Call[] calls) {
        Call ref = calls[0];
        String op = ref.op();
        int size = calls.length;
        for (int r = 1; r < size; r++) {
            Call c = calls[r];
            if (!c.op().equals(op)) {
                return "collective mismatch: rank 0 called " + op + " but rank " + r + " called " + c.op();
            }
            if (c.root() != ref.root()) {
                return op + ": rank " + r + " passed root " + c.root() + " but rank 0 passed root " + ref.root();
            }
            if (c.reduce() != ref.reduce()) {
                return op + ": rank " + r + " passed " + c.reduce() + " but rank 0 passed " + ref.reduce();
            }
        }
        if (hasRoot(op) && (ref.root() < 0 || ref.root() >= size)) {
            return op + ": root " + ref.root() + " (passed by every rank) is outside [0, " + size + ")";
        }
        // The ranks whose tensors take part, and the one the others are compared with.
        int first = rootOnly(op) ? ref.root() : 0;
        int last = rootOnly(op) ? ref.root() : size - 1;
        Call model = calls[first];
        if (rootOnly(op) && model.shape() == null) {
            return op + ": the root, rank " + first + ", passed no tensor";
        }
        for (int r = first + 1; r <= last; r++) {
            Call c = calls[r];
            if (!c.sameTensor(model)) {
                return op + ": rank " + r + " has " + c.describe() + " but rank " + first + " has " + model.describe();
            }
        }
        if (model.shape() == null) {
            return op.equals("barrier") ? null : op + ": no rank passed a tensor";
        }
        int rank = model.shape().length;
        String dimProblem = dimProblem(calls, first, rank, true);
        if (dimProblem == null) {
            dimProblem = dimProblem(calls, first, rank, false);
        }
        if (dimProblem != null) {
            return dimProblem;
        }
        if (splits(op)) {
            int d = normalize(model.dim(), rank);
            long n = model.shape()[d];
            if (n % size != 0) {
                return op + ": dimension " + d + " of " + model.describe() + " (" + n + ") "
                        + (rootOnly(op) ? "on the root, rank " + first + "," : "on every rank")
                        + " is not divisible by " + size + " ranks";
            }
        }
        return null;
    }

    /**
     * The first rank whose {@code dim} ({@code dim2} when {@code !firstDim}) is outside the rank-{@code rank}
     * tensor of rank {@code ref}, or names another dimension of it than rank {@code ref}'s does.
     */
    private static String dimProblem(Call[] calls, int ref, int rank, boolean firstDim) {
        String name = firstDim ? "dimension" : "concat dimension";
        int want = firstDim ? calls[ref].dim() : calls[ref].dim2();
        if (want == NO_DIM) {
            return null;
        }
        String tensor = "the rank-" + rank + " tensor " + calls[ref].describe() + (rootOnly(calls[ref].op())
                ? " of the root, rank " + ref : "");
        for (int r = 0; r < calls.length; r++) {
            int got = firstDim ? calls[r].dim() : calls[r].dim2();
            if (normalize(got, rank) < 0) {
                return calls[r].op() + ": rank " + r + " passed " + name + " " + got + ", outside " + tensor;
            }
            if (normalize(got, rank) != normalize(want, rank)) {
                return calls[r].op() + ": rank " + r + " passed " + name + " " + got + " but rank " + ref + " passed "
                        + want + ", of " + tensor;
            }
        }
        return null;
    }

    /**
     * Why a send of {@code sent} from rank {@code from} cannot land in {@code expected} on rank {@code to}, or
     * {@code null}: the same sentence on both ranks.
     */
    static String pairProblem(Call sent, int from, Call expected, int to) {
        if (!sent.op().equals("send") || !expected.op().equals("recv") || sent.root() != to || expected.root() != from) {
            return "send/recv mismatch: rank " + from + " called " + sent.op() + " with peer " + sent.root()
                    + " but rank " + to + " called " + expected.op() + " with peer " + expected.root();
        }
        if (!Arrays.equals(sent.shape(), expected.shape()) || sent.dtype() != expected.dtype()) {
            return "send/recv: rank " + from + " sends " + sent.describe() + " but rank " + to + " expects "
                    + expected.describe();
        }
        return null;
    }
}
