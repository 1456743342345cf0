package io.tpkernels.collective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.MemoryMeter;
import io.tpkernels.runtime.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * "No extra copy on the root": along dim 0 the root's slab is a view of the full tensor (same memory, nothing
 * allocated); along another dim a view is impossible (tensors are contiguous), and the root allocates exactly one
 * slab, never a staging copy of the full tensor. Measured with the per-thread {@link MemoryMeter} (a rank is a
 * thread).
 */
class LocalGroupScatterCopyTest {

    private static final int RANKS = 4;
    private static final int ROOT = 2;

    /** {@code {address offset of the slab from the full tensor, or -1 if elsewhere; peak bytes; live bytes}}. */
    private static List<long[]> scatter(int dim, long[] full) {
        return LocalGroup.run(RANKS, g -> {
            try (Tensor whole = g.rank() == ROOT ? LocalGroupPropertiesTest.input(DType.F32, 3, 0, full) : null;
                 MemoryMeter meter = MemoryMeter.start();
                 Tensor mine = g.scatterFromRank(ExecutionContext.cpu(), whole, ROOT, dim)) {
                long offset = -1;
                if (whole != null) {
                    long at = mine.hostSegment().address() - whole.hostSegment().address();
                    offset = at >= 0 && at < whole.byteSize() ? at : -1;
                }
                return new long[] {offset, meter.peakBytes(Device.CPU), meter.liveBytes(Device.CPU)};
            }
        });
    }

    @Test
    void alongDimZeroTheRootsSlabIsAViewOfTheFullTensor() {
        long[] full = {RANKS * 3, 5};
        long slabBytes = 3 * 5 * 4;
        List<long[]> seen = scatter(0, full);
        assertArrayEquals(new long[] {ROOT * slabBytes, 0, 0}, seen.get(ROOT),
                "the root's slab starts at its rows of the full tensor, and nothing was allocated");
        for (int r = 0; r < RANKS; r++) {
            if (r != ROOT) {
                assertEquals(slabBytes, seen.get(r)[1], "rank " + r + " allocates its slab");
            }
        }
    }

    @Test
    void alongAnotherDimTheRootAllocatesExactlyOneSlab() {
        long[] full = {3, RANKS * 2, 5};
        long slabBytes = 3 * 2 * 5 * 4;
        for (int dim : new int[] {1, -2}) { // dim 1, written both ways
            List<long[]> seen = scatter(dim, full);
            assertEquals(-1, seen.get(ROOT)[0], "a slab along dim 1 is a copy, not a view");
            assertEquals(slabBytes, seen.get(ROOT)[1], "the root's peak is its one slab, dim " + dim);
            assertEquals(slabBytes, seen.get(ROOT)[2], "and that slab is the result");
        }
        long[] last = {3, 2, RANKS * 5};
        assertEquals(3 * 2 * 5 * 4, scatter(2, last).get(ROOT)[1], "along the last dim too");
    }
}
