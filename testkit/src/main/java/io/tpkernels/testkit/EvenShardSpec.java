package io.tpkernels.testkit;

import io.tpkernels.shard.ShardRange;
import java.util.List;
import java.util.stream.IntStream;

/**
 * A dimension that splits evenly: {@code size % parts == 0}.
 *
 * @param size  the dimension's length
 * @param parts the number of parts
 */
public record EvenShardSpec(long size, int parts) {

    /**
     * Part {@code index}.
     *
     * @param index the part, in {@code [0, parts)}
     * @return its range
     * @throws IllegalArgumentException when {@code index} is out of range
     */
    public ShardRange range(int index) {
        return ShardRange.of(size, parts, index);
    }

    /**
     * Every part, in order.
     *
     * @return the {@code parts} ranges, which cover {@code [0, size)}
     */
    public List<ShardRange> ranges() {
        return IntStream.range(0, parts).mapToObj(this::range).toList();
    }
}
