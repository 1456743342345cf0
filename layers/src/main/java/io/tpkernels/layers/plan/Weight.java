package io.tpkernels.layers.plan;

import io.tpkernels.layers.config.WeightFormat;

/**
 * One parameter tensor of a model, or {@code count} alike ones (the experts of a layer): its shape {@code [rows, cols]}
 * and the part of it one tensor-parallel rank holds, {@code [rankRows, rankCols]}. A column-parallel weight splits its
 * rows into {@code rowParts} equal parts, a row-parallel one its columns into {@code colParts}; a replicated one is
 * whole on every rank. Only {@link Kind#LINEAR} weights are quantized when the format says so (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#11-pipeline-partition-and-the-parallel-plan">section 11</a>);
 * everything else is in the unquantized dtype.
 *
 * @param name     the module's name in a layer, for messages
 * @param kind     what it is
 * @param count    how many alike tensors (experts), else 1
 * @param rows     rows of the whole tensor
 * @param cols     columns of the whole tensor (1 for a vector)
 * @param rankRows rows one rank holds
 * @param rankCols columns one rank holds
 * @param rowParts equal row parts the whole tensor is split into (1 when rows are not split)
 * @param colParts equal column parts (1 when columns are not split)
 */
public record Weight(String name, Kind kind, long count, long rows, long cols, long rankRows, long rankCols,
                     long rowParts, long colParts) {

    /** What a weight is; only linear layers' weights are quantized. */
    public enum Kind {
        /** A linear layer's weight (quantized under fp8). */
        LINEAR,
        /** A linear layer's bias. */
        BIAS,
        /** An RMSNorm's weight. */
        NORM,
        /** A MoE router's weight or score-correction bias, or a shared expert's gate. */
        ROUTER,
        /** The token embedding's rows. */
        EMBEDDING,
        /** The LM head's rows. */
        LM_HEAD,
        /** A LoRA factor. */
        LORA
    }

    /**
     * Checks the sizes.
     *
     * @param name the module's name in a layer
     * @param kind what it is
     * @param count how many alike tensors, at least 1
     * @param rows rows of the whole tensor, {@code >= 0}
     * @param cols columns of the whole tensor, {@code >= 0}
     * @param rankRows rows one rank holds, in {@code [0, rows]}
     * @param rankCols columns one rank holds, in {@code [0, cols]}
     * @param rowParts row parts, at least 1
     * @param colParts column parts, at least 1
     * @throws IllegalArgumentException naming the weight when a size is out of range
     */
    public Weight {
        if (count < 1 || rows < 0 || cols < 0 || rankRows < 0 || rankRows > rows || rankCols < 0 || rankCols > cols
                || rowParts < 1 || colParts < 1) {
            throw new IllegalArgumentException("bad weight " + name + ": " + count + " x [" + rows + ", " + cols
                    + "], rank part [" + rankRows + ", " + rankCols + "], parts " + rowParts + " x " + colParts);
        }
    }

    /** A weight whole on every rank. */
    static Weight replicated(String name, Kind kind, long count, long rows, long cols) {
        return new Weight(name, kind, count, rows, cols, rows, cols, 1, 1);
    }

    /** A column-parallel weight (or bias): rows split over {@code tp} ranks. */
    static Weight column(String name, Kind kind, long count, long rows, long cols, int tp) {
        return new Weight(name, kind, count, rows, cols, split(name, rows, tp), cols, tp, 1);
    }

    /** A row-parallel weight: columns split over {@code tp} ranks. */
    static Weight row(String name, Kind kind, long count, long rows, long cols, int tp) {
        return new Weight(name, kind, count, rows, cols, rows, split(name, cols, tp), 1, tp);
    }

    /**
     * A k or v projection (or bias) of {@code heads} heads of {@code headDim} rows: split by heads over {@code tp}
     * ranks, or, with fewer heads than ranks, one whole head per rank (replicated over {@code tp / heads} ranks).
     */
    static Weight kvHeads(String name, Kind kind, long heads, long headDim, long cols, int tp) {
        long parts = Math.min(heads, tp);
        long rows = Math.multiplyExact(heads, headDim);
        return new Weight(name, kind, 1, rows, cols, split(name, rows, parts), cols, parts, 1);
    }

    private static long split(String name, long size, long parts) {
        if (size % parts != 0) {
            throw new IllegalArgumentException("tp " + parts + " does not divide " + name + " (" + size + ")");
        }
        return size / parts;
    }

    /**
     * Parameters of the whole tensor(s).
     *
     * @return {@code count·rows·cols}
     * @throws ArithmeticException when the count overflows a {@code long}
     */
    public long params() {
        return Math.multiplyExact(count, Math.multiplyExact(rows, cols));
    }

    /**
     * Parameters one rank holds.
     *
     * @return {@code count·rankRows·rankCols}
     * @throws ArithmeticException when the count overflows a {@code long}
     */
    public long paramsPerRank() {
        return Math.multiplyExact(count, Math.multiplyExact(rankRows, rankCols));
    }

    /**
     * Bytes of the whole tensor(s) in {@code format}.
     *
     * @param format the dtype and fp8 blocks the model is stored in
     * @return the bytes: one per element plus 4 per scale block when quantized, else the dtype's size per element
     * @throws ArithmeticException when the count overflows a {@code long}
     */
    public long bytes(WeightFormat format) {
        if (quantizedIn(format)) {
            long blocks = Math.multiplyExact(blocks(rows, 1, format.fp8().blockRows()),
                    blocks(cols, 1, format.fp8().blockCols()));
            return Math.multiplyExact(count, Math.addExact(Math.multiplyExact(rows, cols), Math.multiplyExact(4, blocks)));
        }
        return Math.multiplyExact(params(), format.dtype().byteSize());
    }

    /**
     * Bytes one rank holds in {@code format}: its fp8 weights and every scale block its part overlaps.
     *
     * @param format the dtype and fp8 blocks the model is stored in
     * @return the bytes one rank holds
     * @throws ArithmeticException when the count overflows a {@code long}
     */
    public long bytesPerRank(WeightFormat format) {
        if (quantizedIn(format)) {
            long blocks = Math.multiplyExact(blocks(rows, rowParts, format.fp8().blockRows()),
                    blocks(cols, colParts, format.fp8().blockCols()));
            return Math.multiplyExact(count, Math.addExact(Math.multiplyExact(rankRows, rankCols), Math.multiplyExact(4, blocks)));
        }
        return Math.multiplyExact(paramsPerRank(), format.dtype().byteSize());
    }

    /**
     * Whether this weight is stored as fp8 in {@code format}.
     *
     * @param format the dtype and fp8 blocks the model is stored in
     * @return whether it is a linear weight and the format is quantized
     */
    public boolean quantizedIn(WeightFormat format) {
        return kind == Kind.LINEAR && format.quantized();
    }

    /**
     * The most blocks of {@code block} that one of {@code parts} equal parts of {@code size} overlaps: part
     * {@code r} covers {@code [r·n, (r+1)·n)} and overlaps blocks {@code floor(r·n/block)} to
     * {@code ceil((r+1)·n/block) − 1}. The overlap repeats with period {@code block / gcd(n, block)} in {@code r}.
     */
    static long blocks(long size, long parts, long block) {
        long n = size / parts;
        if (n == 0) {
            return 0;
        }
        long period = block / gcd(n, block);
        long most = 0;
        for (long r = 0; r < Math.min(parts, period); r++) {
            long first = Math.multiplyExact(r, n) / block;
            long end = Math.ceilDiv(Math.multiplyExact(r + 1, n), block);
            most = Math.max(most, end - first);
        }
        return most;
    }

    private static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }
}
