package io.tpkernels.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * Bad arguments are an error on EVERY rank, the same sentence, naming the rank and both shapes: none fails alone
 * before the rendezvous (leaving the others with "rank N failed") and none waits for the timeout.
 */
class LocalGroupMismatchTest {

    /** What one rank does with the tensor it is given. */
    @FunctionalInterface
    interface Collective {
        void call(ProcessGroup g, Tensor t) throws Exception;
    }

    /** Runs {@code size} ranks, rank r with a tensor of {@code shapes[r]} and {@code dtypes[r]}; each rank's error. */
    static Map<Integer, String> errors(int size, long[][] shapes, DType[] dtypes, Collective collective) {
        Map<Integer, String> seen = new ConcurrentHashMap<>();
        long start = System.nanoTime();
        assertThrows(CollectiveException.class, () -> LocalGroup.run(size, Duration.ofSeconds(20), g -> {
            try (Tensor t = shapes[g.rank()] == null ? null
                    : Tensor.zeros(Device.CPU, dtypes[g.rank()], shapes[g.rank()])) {
                collective.call(g, t);
            } catch (CollectiveException e) {
                seen.put(g.rank(), e.getMessage());
                throw e;
            }
            return null;
        }));
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 10, "nobody waited for the timeout");
        assertEquals(size, seen.size(), "every rank got a CollectiveException: " + seen);
        return seen;
    }

    static Map<Integer, String> errors(int size, long[][] shapes, Collective collective) {
        DType[] f32 = new DType[size];
        Arrays.fill(f32, DType.F32);
        return errors(size, shapes, f32, collective);
    }

    private static void assertEveryRankSays(String expected, Map<Integer, String> seen) {
        seen.forEach((rank, message) -> assertEquals(expected, message, "rank " + rank));
    }

    @Test
    void aDtypeMismatchNamesTheRankAndBothTensors() {
        long[][] shapes = {{4}, {4}, {4}};
        DType[] dtypes = {DType.F32, DType.BF16, DType.F32};
        assertEveryRankSays("allReduce: rank 1 has [4] BF16 on cpu but rank 0 has [4] F32 on cpu",
                errors(3, shapes, dtypes, (g, t) -> g.allReduce(ExecutionContext.cpu(), t, ReduceOp.SUM)));
    }

    @Test
    void reduceScatterWithOneRanksDimensionIndivisibleIsAMismatchOnEveryRank() {
        // Rank 2's [4, 5] does not split in 3; checked alone first, only rank 2 would have known why.
        long[][] shapes = {{4, 6}, {4, 6}, {4, 5}};
        assertEveryRankSays("reduceScatter: rank 2 has [4, 5] F32 on cpu but rank 0 has [4, 6] F32 on cpu",
                errors(3, shapes, (g, t) -> g.reduceScatter(ExecutionContext.cpu(), t, 1, ReduceOp.SUM).close()));
    }

    @Test
    void reduceScatterIndivisibleOnEveryRankIsTheSameErrorOnEveryRank() {
        long[][] shapes = {{4, 5}, {4, 5}, {4, 5}};
        assertEveryRankSays("reduceScatter: dimension 1 of [4, 5] F32 on cpu (5) on every rank is not divisible by 3"
                + " ranks", errors(3, shapes, (g, t) -> g.reduceScatter(ExecutionContext.cpu(), t, -1, ReduceOp.MAX).close()));
    }

    @Test
    void allToAllWithOneRanksSplitIndivisibleIsAMismatchOnEveryRank() {
        long[][] shapes = {{6, 3}, {5, 3}};
        assertEveryRankSays("allToAll: rank 1 has [5, 3] F32 on cpu but rank 0 has [6, 3] F32 on cpu",
                errors(2, shapes, (g, t) -> g.allToAll(ExecutionContext.cpu(), t, 0, 1).close()));
        long[][] alike = {{5, 3}, {5, 3}};
        assertEveryRankSays("allToAll: dimension 0 of [5, 3] F32 on cpu (5) on every rank is not divisible by 2 ranks",
                errors(2, alike, (g, t) -> g.allToAll(ExecutionContext.cpu(), t, 0, 1).close()));
    }

    @Test
    void allGatherAlongADimensionOneRankLacksIsAMismatchOnEveryRank() {
        // Rank 2 passes a rank-1 tensor: dim 1 does not exist there, but the shapes disagree first.
        long[][] shapes = {{4, 4}, {4, 4}, {4}};
        assertEveryRankSays("allGather: rank 2 has [4] F32 on cpu but rank 0 has [4, 4] F32 on cpu",
                errors(3, shapes, (g, t) -> g.allGather(ExecutionContext.cpu(), t, 1).close()));
    }

    @Test
    void aDimensionOutsideTheTensorOrDifferentOnOneRankIsAnErrorOnEveryRank() {
        long[][] shapes = {{4}, {4}};
        assertEveryRankSays("allGather: rank 0 passed dimension 1, outside the rank-1 tensor [4] F32 on cpu",
                errors(2, shapes, (g, t) -> g.allGather(ExecutionContext.cpu(), t, 1).close()));
        long[][] square = {{2, 2}, {2, 2}};
        assertEveryRankSays("allGather: rank 1 passed dimension 0 but rank 0 passed -1, of the rank-2 tensor [2, 2] F32"
                + " on cpu", errors(2, square, (g, t) -> g.allGather(ExecutionContext.cpu(), t, g.rank() == 0 ? -1 : 0).close()));
        assertEveryRankSays("allToAll: rank 1 passed concat dimension 2, outside the rank-2 tensor [2, 2] F32 on cpu",
                errors(2, square, (g, t) -> g.allToAll(ExecutionContext.cpu(), t, 0, g.rank() == 0 ? 1 : 2).close()));
    }

    @Test
    void scatterChecksTheRootsTensorOnEveryRank() {
        long[][] shapes = {null, {5, 2}};
        assertEveryRankSays("scatterFromRank: dimension 0 of [5, 2] F32 on cpu (5) on the root, rank 1, is not"
                + " divisible by 2 ranks", errors(2, shapes, (g, t) -> g.scatterFromRank(ExecutionContext.cpu(), t, 1, 0).close()));
        long[][] none = {null, null};
        assertEveryRankSays("scatterFromRank: the root, rank 1, passed no tensor",
                errors(2, none, (g, t) -> g.scatterFromRank(ExecutionContext.cpu(), t, 1, 0).close()));
        assertEveryRankSays("broadcast: root 2 (passed by every rank) is outside [0, 2)",
                errors(2, shapes, (g, t) -> g.broadcast(ExecutionContext.cpu(), t, 2)));
        assertEveryRankSays("broadcast: rank 1 passed root 1 but rank 0 passed root 0",
                errors(2, new long[][] {{3}, {3}}, (g, t) -> g.broadcast(ExecutionContext.cpu(), t, g.rank())));
    }

    @Test
    void aSendAndRecvOfDifferentDtypesNameBothEnds() {
        long[][] shapes = {{3, 5}, {3, 5}};
        DType[] dtypes = {DType.BF16, DType.F32};
        Map<Integer, String> seen = new ConcurrentHashMap<>();
        assertThrows(CollectiveException.class, () -> LocalGroup.run(2, Duration.ofSeconds(20), g -> {
            try (Tensor t = Tensor.zeros(Device.CPU, dtypes[g.rank()], shapes[g.rank()])) {
                if (g.rank() == 0) {
                    g.send(ExecutionContext.cpu(), t, 1);
                    g.barrier(); // the sender learns of the mismatch at its next call
                } else {
                    g.recv(ExecutionContext.cpu(), t, 0);
                }
            } catch (CollectiveException e) {
                seen.put(g.rank(), e.getMessage());
                throw e;
            }
            return null;
        }));
        assertEveryRankSays("send/recv: rank 0 sends [3, 5] BF16 on cpu but rank 1 expects [3, 5] F32 on cpu", seen);
        assertEquals(2, seen.size());
    }

    /**
     * For any group size, any rank passing a tensor of another shape or dtype, and any of the shaped collectives:
     * every rank gets the same message, and it names the odd rank, its tensor and rank 0's.
     */
    @Property(tries = 25)
    void anyMismatchIsTheSameNamedErrorOnEveryRank(@ForAll @IntRange(min = 2, max = 6) int size,
                                                   @ForAll @IntRange(min = 1, max = 5) int oddRaw,
                                                   @ForAll @IntRange(min = 0, max = 3) int which,
                                                   @ForAll boolean dtypeDiffers, @ForAll @IntRange(min = 1, max = 3) int extra) {
        int odd = oddRaw % size == 0 ? 1 : oddRaw % size;
        long[][] shapes = new long[size][];
        DType[] dtypes = new DType[size];
        for (int r = 0; r < size; r++) {
            shapes[r] = new long[] {2L * size, 3};
            dtypes[r] = DType.F32;
        }
        if (dtypeDiffers) {
            dtypes[odd] = DType.F16;
        } else {
            shapes[odd] = new long[] {2L * size + extra, 3};
        }
        Collective collective = switch (which) {
            case 0 -> (g, t) -> g.allReduce(ExecutionContext.cpu(), t, ReduceOp.MAX);
            case 1 -> (g, t) -> g.allGather(ExecutionContext.cpu(), t, 0).close();
            case 2 -> (g, t) -> g.reduceScatter(ExecutionContext.cpu(), t, 0, ReduceOp.SUM).close();
            default -> (g, t) -> g.allToAll(ExecutionContext.cpu(), t, 0, 1).close();
        };
        Map<Integer, String> seen = errors(size, shapes, dtypes, collective);
        String expectedOdd = Arrays.toString(shapes[odd]) + " " + dtypes[odd] + " on cpu";
        String expectedRef = Arrays.toString(shapes[0]) + " " + dtypes[0] + " on cpu";
        String first = seen.get(0);
        seen.forEach((rank, message) -> {
            assertEquals(first, message, "the same sentence on rank " + rank);
            assertTrue(message.contains("rank " + odd + " has " + expectedOdd), message);
            assertTrue(message.contains("rank 0 has " + expectedRef), message);
        });
    }
}
