package io.tpkernels.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Failures end every rank within the timeout plus a small slack, with an exception naming the cause. */
class LocalGroupFaultTest {

    private static final Duration TIMEOUT = Duration.ofMillis(800);

    @Test
    void aRankThatThrowsAbortsTheOthersWhoNameIt() {
        ConcurrentHashMap<Integer, String> seen = new ConcurrentHashMap<>();
        long start = System.nanoTime();
        var e = assertThrows(IllegalStateException.class, () -> LocalGroup.run(4, Duration.ofSeconds(30), g -> {
            try (Tensor t = Tensor.allocate(Device.CPU, DType.F32, 8)) {
                if (g.rank() == 2) {
                    throw new IllegalStateException("rank 2 broke on purpose");
                }
                try {
                    g.allReduce(ExecutionContext.defaultFor(t.device()), t, ReduceOp.SUM);
                } catch (CollectiveException c) {
                    seen.put(g.rank(), c.getMessage());
                    throw c;
                }
                return null;
            }
        }));
        assertEquals("rank 2 broke on purpose", e.getMessage(), "the first failure is rethrown as it was");
        assertEquals(3, seen.size(), "every other rank got an exception");
        seen.values().forEach(m -> assertTrue(m.contains("rank 2 failed"), m));
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 10, "no rank waited for the 30 s timeout");
        assertEquals(3, e.getSuppressed().length);
    }

    @Test
    void aRankThatNeverArrivesTimesEveryoneOut() {
        AtomicInteger threw = new AtomicInteger();
        long start = System.nanoTime();
        var e = assertThrows(CollectiveException.class, () -> LocalGroup.run(3, TIMEOUT, g -> {
            if (g.rank() == 1) {
                Thread.sleep(Duration.ofMinutes(10)); // never arrives
            }
            try (Tensor t = Tensor.allocate(Device.CPU, DType.F32, 8)) {
                g.allReduce(ExecutionContext.defaultFor(t.device()), t, ReduceOp.SUM);
            } catch (CollectiveException c) {
                threw.incrementAndGet();
                throw c;
            }
            return null;
        }));
        long ms = Duration.ofNanos(System.nanoTime() - start).toMillis();
        assertTrue(e.getMessage().contains("ranks [1] did not arrive"), e.getMessage());
        assertEquals(2, threw.get());
        assertTrue(ms < TIMEOUT.toMillis() + 10_000, "ended after " + ms + " ms");
    }

    @Test
    void mismatchedShapesAreAnErrorOnEveryRankNamingBoth() {
        ConcurrentHashMap<Integer, String> seen = new ConcurrentHashMap<>();
        assertThrows(CollectiveException.class, () -> LocalGroup.run(3, Duration.ofSeconds(10), g -> {
            try (Tensor t = Tensor.allocate(Device.CPU, DType.F32, 4, g.rank() == 2 ? 5 : 4)) {
                g.allReduce(ExecutionContext.defaultFor(t.device()), t, ReduceOp.SUM);
            } catch (CollectiveException c) {
                seen.put(g.rank(), c.getMessage());
                throw c;
            }
            return null;
        }));
        assertEquals(3, seen.size());
        seen.values().forEach(m -> assertEquals("allReduce: rank 2 has [4, 5] F32 on cpu but rank 0 has [4, 4] F32 on cpu", m));
    }

    @Test
    void differentCollectivesAreAMismatchToo() {
        var e = assertThrows(CollectiveException.class, () -> LocalGroup.run(2, Duration.ofSeconds(10), g -> {
            if (g.rank() == 0) {
                g.barrier();
            } else {
                try (Tensor t = Tensor.allocate(Device.CPU, DType.F32, 2)) {
                    g.allReduce(ExecutionContext.defaultFor(t.device()), t, ReduceOp.SUM);
                }
            }
            return null;
        }));
        assertTrue(e.getMessage().contains("rank 0 called barrier but rank 1 called allReduce"), e.getMessage());
    }

    @Test
    void aRecvWithNoSenderTimesOut() {
        var e = assertThrows(CollectiveException.class, () -> LocalGroup.run(2, TIMEOUT, g -> {
            if (g.rank() == 1) {
                try (Tensor t = Tensor.allocate(Device.CPU, DType.F32, 2)) {
                    g.recv(ExecutionContext.defaultFor(t.device()), t, 0);
                }
            }
            return null;
        }));
        assertTrue(e.getMessage().contains("to receive from rank 0"), e.getMessage());
    }

    @Test
    void aSingleRankGroupIsTheIdentity() {
        var out = LocalGroup.run(1, g -> {
            try (Tensor t = Tensor.ofFloats(DType.F32, new float[] {1, 2, 3}, 3)) {
                g.allReduce(ExecutionContext.defaultFor(t.device()), t, ReduceOp.SUM);
                try (Tensor gathered = g.allGather(ExecutionContext.defaultFor(t.device()), t, 0)) {
                    return gathered.toFloatArray();
                }
            }
        });
        assertEquals(3, out.get(0).length);
        assertEquals(2f, out.get(0)[1]);
    }
}
