package io.tpkernels.collective;

import static io.tpkernels.collective.Agreement.NO_DIM;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** The header an NcclGroup rank exchanges before each collective: what it encodes is what the others decode. */
class NcclHeaderTest {

    @Provide
    Arbitrary<String> ops() {
        return Arbitraries.of("allReduce", "allGather", "reduceScatter", "allToAll", "broadcast", "scatterFromRank",
                "barrier", "send", "recv");
    }

    @Property(tries = 200)
    void aCallSurvivesTheTripThroughItsHeader(@ForAll("ops") String op,
                                              @ForAll @Size(min = 0, max = 8) java.util.List<@IntRange(min = 0, max = 9) Integer> dims,
                                              @ForAll DType dtype, @ForAll @IntRange(min = -1, max = 7) int root,
                                              @ForAll @IntRange(min = -3, max = 3) int dim, @ForAll ReduceOp reduce) {
        long[] shape = dims.stream().mapToLong(Integer::longValue).toArray();
        try (Tensor t = Tensor.allocate(Device.CPU, dtype, shape)) {
            long[] h = NcclHeader.encode(op, t, Device.CPU, root, dim, NO_DIM, reduce);
            assertEquals(NcclHeader.LONGS, h.length);
            Agreement.Call c = NcclHeader.decode(h);
            assertEquals(op, c.op());
            assertArrayEquals(shape, c.shape());
            assertEquals(dtype, c.dtype());
            assertEquals(root, c.root());
            assertEquals(dim, c.dim());
            assertEquals(NO_DIM, c.dim2());
            assertEquals(reduce, c.reduce());
            assertNull(NcclHeader.unusable(h, 3));
        }
    }

    @Test
    void noTensorIsEncodedAsNone() {
        Agreement.Call c = NcclHeader.decode(NcclHeader.encode("barrier", null, Device.CPU, -1, NO_DIM, NO_DIM, null));
        assertEquals("barrier", c.op());
        assertNull(c.shape());
        assertNull(c.dtype());
        assertNull(c.reduce());
    }

    @Test
    void aTensorTheGroupCannotCarryIsFlaggedForEveryRankToReject() {
        try (Tensor nine = Tensor.allocate(Device.CPU, DType.F32, 1, 1, 1, 1, 1, 1, 1, 1, 2);
             Tensor elsewhere = Tensor.allocate(Device.CPU, DType.BF16, 4, 5)) {
            assertEquals("allReduce: rank 2 passed a rank-9 tensor; an NCCL group carries at most 8 dimensions",
                    NcclHeader.unusable(NcclHeader.encode("allReduce", nine, Device.CPU, -1, NO_DIM, NO_DIM,
                            ReduceOp.SUM), 2));
            assertEquals("send: rank 1's tensor [4, 5] BF16 is not on the device rank 1 runs on",
                    NcclHeader.unusable(NcclHeader.encode("send", elsewhere, Device.cuda(0), 0, NO_DIM, NO_DIM, null),
                            1));
        }
    }
}
