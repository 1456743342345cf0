package io.tpkernels.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The watchdog NCCL's blocking calls run under, with stand-ins for the calls (no NCCL needed): a call that never
 * returns (ncclCommInitRank waiting for a rank that never comes) ends in an exception naming the call, the rank
 * and the timeout, within the timeout plus a small slack, after the give-up action (the abort) ran.
 */
class BoundedCallsTest {

    private static final Duration TIMEOUT = Duration.ofMillis(300);

    @Test
    void aCallThatReturnsInTimeGivesItsResultAndEveryCallRunsOnTheSameHelperThread() {
        AtomicReference<Thread> started = new AtomicReference<>();
        try (BoundedCalls calls = new BoundedCalls("rank 0", TIMEOUT, () -> started.set(Thread.currentThread()))) {
            Set<Thread> threads = new HashSet<>();
            for (int i = 0; i < 5; i++) {
                int n = i;
                assertEquals(n * 2, calls.call("double " + n, () -> {
                    threads.add(Thread.currentThread());
                    return n * 2;
                }, null, null));
            }
            assertEquals(1, threads.size(), "NCCL's group state is per thread: one thread for all of a rank's calls");
            assertSame(started.get(), threads.iterator().next(), "the set-up (the CUDA context) ran on that thread");
            assertTrue(threads.iterator().next().isDaemon(), "a stuck call must not keep the JVM alive");
        }
    }

    @Test
    void aCallThatNeverReturnsThrowsNamingTheCallTheRankAndTheTimeoutAndGivesUp() {
        CountDownLatch never = new CountDownLatch(1);
        AtomicInteger aborted = new AtomicInteger();
        try (BoundedCalls calls = new BoundedCalls("rank 3", TIMEOUT, () -> { })) {
            long start = System.nanoTime();
            var e = assertThrows(CollectiveException.class, () -> calls.call("ncclCommInitRank(nranks=4, rank=3)", () -> {
                never.await();
                return "a communicator";
            }, aborted::incrementAndGet, null));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals("rank 3: ncclCommInitRank(nranks=4, rank=3) did not return within 300 ms (a peer failed or"
                    + " never arrived)", e.getMessage());
            assertEquals(1, aborted.get(), "the give-up action (ncclCommAbort) ran once");
            assertTrue(ms >= TIMEOUT.toMillis() && ms < TIMEOUT.toMillis() + 2000, "ended after " + ms + " ms");

            // The helper is stuck: later calls fail at once instead of queueing behind it.
            long again = System.nanoTime();
            var next = assertThrows(CollectiveException.class, () -> calls.call("ncclAllReduce", () -> 1, null, null));
            assertTrue(next.getMessage().contains("rank 3 cannot call ncclAllReduce: ncclCommInitRank(nranks=4, rank=3)"
                    + " never returned"), next.getMessage());
            assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - again) < TIMEOUT.toMillis());
        } finally {
            never.countDown();
        }
    }

    @Test
    void aResultThatComesAfterTheCallerGaveUpIsHandedToTheLateAction() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch disposed = new CountDownLatch(1);
        AtomicReference<String> late = new AtomicReference<>();
        try (BoundedCalls calls = new BoundedCalls("rank 1", TIMEOUT, () -> { })) {
            assertThrows(CollectiveException.class, () -> calls.call("ncclCommInitAll(ndev=2)", () -> {
                release.await();
                return "late communicator";
            }, null, comm -> {
                late.set(comm);
                disposed.countDown();
            }));
            release.countDown(); // the stuck init returns after all
            assertTrue(disposed.await(5, TimeUnit.SECONDS), "the late communicator was disposed of");
            assertEquals("late communicator", late.get());
        }
    }

    @Test
    void theCallsOwnExceptionIsRethrownAsItWas() {
        try (BoundedCalls calls = new BoundedCalls("rank 0", TIMEOUT, () -> { })) {
            IllegalStateException thrown = new IllegalStateException("ncclCommInitRank failed: ncclInvalidUsage (5)");
            var e = assertThrows(IllegalStateException.class, () -> calls.call("ncclCommInitRank", () -> {
                throw thrown;
            }, null, null));
            assertSame(thrown, e);
            assertEquals(7, calls.call("after a failure the helper still serves", () -> 7, null, null));
        }
    }

    @Test
    void aFailedSetUpFailsEveryCallWithItsReason() {
        try (BoundedCalls calls = new BoundedCalls("rank 2", TIMEOUT, () -> {
            throw new IllegalStateException("cuCtxSetCurrent failed");
        })) {
            var e = assertThrows(CollectiveException.class, () -> calls.call("ncclCommInitRank", () -> 1, null, null));
            assertTrue(e.getMessage().contains("rank 2") && e.getMessage().contains("cuCtxSetCurrent failed"),
                    e.getMessage());
        }
    }
}
