package io.tpkernels.collective;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * What a rank of an {@link NcclGroup} passed to a collective, as the 16 longs it exchanges with the others before
 * the data, so that every rank can run the same {@link Agreement} on everyone's arguments. Layout: [0] the op,
 * [1] dtype, [2] tensor rank (-1: no tensor), [3..10] shape, [11] root or peer, [12] dim, [13] dim2, [14] reduce,
 * [15] 1 if the tensor is not on the rank's device. Nothing is checked when encoding: a tensor that cannot take part
 * is flagged, and every rank rejects it after the exchange ({@link #unusable}).
 */
final class NcclHeader {
    /** Longs in a header. */
    static final int LONGS = 16;
    /** The most dimensions a header carries. */
    static final int MAX_DIMS = 8;
    /** The collectives by their index in a header. */
    private static final List<String> OPS = List.of("allReduce", "allGather", "reduceScatter", "allToAll",
            "broadcast", "scatterFromRank", "barrier", "send", "recv");

    private NcclHeader() {
    }

    /** The header of a rank on {@code device} that passed {@code t} (or {@code null}) to {@code op}. */
    static long[] encode(String op, Tensor t, Device device, int root, int dim, int dim2, ReduceOp reduce) {
        long[] h = new long[LONGS];
        h[0] = OPS.indexOf(op);
        h[1] = t == null ? -1 : t.dtype().ordinal();
        h[2] = t == null ? -1 : t.rank();
        for (int i = 0; t != null && i < Math.min(t.rank(), MAX_DIMS); i++) {
            h[3 + i] = t.dim(i);
        }
        h[11] = root;
        h[12] = dim;
        h[13] = dim2;
        h[14] = reduce == null ? -1 : reduce.ordinal();
        h[15] = t != null && !t.device().equals(device) ? 1 : 0;
        return h;
    }

    /**
     * The call a header describes (without its device: every rank's tensor is on its own). Only for a header that
     * {@link #unusable} has passed: it checks the indexes this trusts.
     */
    static Agreement.Call decode(long[] h) {
        String op = h[0] >= 0 && h[0] < OPS.size() ? OPS.get((int) h[0]) : "an unknown collective #" + h[0];
        long[] shape = h[2] < 0 ? null : Arrays.copyOfRange(h, 3, 3 + (int) Math.min(h[2], MAX_DIMS));
        return new Agreement.Call(op, shape, h[1] < 0 ? null : DType.values()[(int) h[1]], null, (int) h[11],
                (int) h[12], (int) h[13], h[14] < 0 ? null : ReduceOp.values()[(int) h[14]]);
    }

    /**
     * What rank {@code r}'s own header says it cannot do, or {@code null}; also a header this build cannot read (a
     * peer on another version), which decode would otherwise take for a call without a dtype or reduce op.
     */
    static String unusable(long[] h, int r) {
        if (h.length != LONGS || h[0] < 0 || h[0] >= OPS.size() || h[1] < -1 || h[1] >= DType.values().length
                || h[14] < -1 || h[14] >= ReduceOp.values().length || h[2] < -1) {
            return "rank " + r + " sent a collective header this build cannot read " + Arrays.toString(h)
                    + " (another tpkernels version?)";
        }
        Agreement.Call c = decode(h);
        if (h[2] > MAX_DIMS) {
            return c.op() + ": rank " + r + " passed a rank-" + h[2] + " tensor; an NCCL group carries at most "
                    + MAX_DIMS + " dimensions";
        }
        if (h[15] != 0) {
            return c.op() + ": rank " + r + "'s tensor " + c.describe() + " is not on the device rank " + r
                    + " runs on";
        }
        return null;
    }
}
