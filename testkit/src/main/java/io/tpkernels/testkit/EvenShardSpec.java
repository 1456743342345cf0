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

    /** Part {@code index}. */
    public ShardRange range(int index) {
        return ShardRange.of(size, parts, index);
    }

    /** Every part, in order. */
    public List<ShardRange> ranges() {
        return IntStream.range(0, parts).mapToObj(this::range).toList();
    }
}
