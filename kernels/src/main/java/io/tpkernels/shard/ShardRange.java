package io.tpkernels.shard;

/**
 * An even split of one dimension (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#3-even-sharding-of-other-dimensions">section 3</a>):
 * part {@code index} of {@code parts} covers {@code [index·size/parts, (index+1)·size/parts)}.
 * {@code size % parts == 0} is required. Used for hidden and intermediate dimensions and LoRA. Immutable; equal inputs
 * give equal values.
 *
 * @param size  the dimension's length
 * @param parts how many equal parts
 * @param index which part, in {@code [0, parts)}
 */
public record ShardRange(long size, int parts, int index) {

    /**
     * Validates the arguments; see {@link #of(long, int, int)}.
     *
     * @param size the dimension's length, {@code >= 0}
     * @param parts how many equal parts, {@code >= 1}, dividing {@code size}
     * @param index which part, in {@code [0, parts)}
     * @throws IllegalArgumentException naming size, parts and index when one is out of range or
     *     {@code size % parts != 0}
     */
    public ShardRange {
        check("a dimension", size, parts, index);
    }

    /**
     * Part {@code index} of {@code size} split into {@code parts}.
     *
     * @param size the dimension's length, {@code >= 0}
     * @param parts how many equal parts, {@code >= 1}, dividing {@code size}
     * @param index which part, in {@code [0, parts)}
     * @return the part
     * @throws IllegalArgumentException naming size, parts and index when {@code size < 0}, {@code parts < 1},
     *                                  {@code index} is outside {@code [0, parts)} or {@code size % parts != 0}
     */
    public static ShardRange of(long size, int parts, int index) {
        return new ShardRange(size, parts, index);
    }

    /**
     * Like {@link #of(long, int, int)}, with {@code tensor} (e.g. "model.layers.0.mlp.up_proj.weight dim 0") in errors.
     *
     * @param tensor what the error message names, the tensor and its dimension
     * @param size the dimension's length, {@code >= 0}
     * @param parts how many equal parts, {@code >= 1}, dividing {@code size}
     * @param index which part, in {@code [0, parts)}
     * @return the part
     * @throws IllegalArgumentException naming {@code tensor}, size, parts and index when one is out of range or
     *     {@code size % parts != 0}
     */
    public static ShardRange of(String tensor, long size, int parts, int index) {
        check(tensor, size, parts, index);
        return new ShardRange(size, parts, index);
    }

    private static void check(String what, long size, int parts, int index) {
        if (size < 0) {
            throw new IllegalArgumentException(what + ": size must be >= 0, got " + size);
        }
        if (parts < 1) {
            throw new IllegalArgumentException(what + ": parts must be >= 1, got " + parts);
        }
        if (index < 0 || index >= parts) {
            throw new IllegalArgumentException(what + ": index " + index + " is outside [0, " + parts + ")");
        }
        if (size % parts != 0) {
            throw new IllegalArgumentException(what + ": size " + size + " is not divisible by " + parts + " parts");
        }
    }

    /**
     * {@code index·size/parts}.
     *
     * @return the part's first index
     */
    public long start() {
        return index * length();
    }

    /**
     * {@code (index+1)·size/parts}.
     *
     * @return one past the part's last index
     */
    public long end() {
        return start() + length();
    }

    /**
     * {@code size/parts}.
     *
     * @return the part's length
     */
    public long length() {
        return size / parts;
    }
}
