package io.tpkernels.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The barrier of LocalGroup's collectives: trips for all parties, and an abort breaks it now and for later. */
class AbortableBarrierTest {

    private static final long LONG = TimeUnit.SECONDS.toNanos(30);

    @Test
    void tripsWhenEveryPartyArrivesAndAgainForTheNextRound() throws Exception {
        AbortableBarrier barrier = new AbortableBarrier(3);
        AtomicInteger passed = new AtomicInteger();
        Thread[] parties = new Thread[3];
        for (int i = 0; i < 3; i++) {
            parties[i] = Thread.ofPlatform().daemon().start(() -> {
                try {
                    for (int round = 0; round < 2; round++) {
                        barrier.await(LONG);
                        passed.incrementAndGet();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        }
        for (Thread t : parties) {
            t.join(TimeUnit.SECONDS.toMillis(10));
        }
        assertEquals(6, passed.get(), "three parties through two rounds");
    }

    /** The race a reset CyclicBarrier lost: a rank that arrives after the abort must not wait out the timeout. */
    @Test
    void aRankArrivingAfterTheAbortThrowsAtOnce() {
        AbortableBarrier barrier = new AbortableBarrier(2);
        barrier.abort();
        long start = System.nanoTime();
        assertThrows(BrokenBarrierException.class, () -> barrier.await(LONG));
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 5);
    }

    @Test
    void aRankWaitingWhenTheAbortComesIsWoken() throws Exception {
        AbortableBarrier barrier = new AbortableBarrier(2);
        CompletableFuture<Class<?>> waiter = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try {
                barrier.await(LONG);
                waiter.complete(Void.class);
            } catch (Exception e) {
                waiter.complete(e.getClass());
            }
        });
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (barrier.waiting() == 0 && System.nanoTime() < until) {
            Thread.sleep(5); // until the waiter is waiting: the arrival-after-abort case is the test above
        }
        assertEquals(1, barrier.waiting());
        barrier.abort();
        assertEquals(BrokenBarrierException.class, waiter.get(10, TimeUnit.SECONDS));
    }

    @Test
    void aTimeoutBreaksTheBarrierForTheOthers() throws InterruptedException, ExecutionException {
        AbortableBarrier barrier = new AbortableBarrier(3);
        assertThrows(TimeoutException.class, () -> barrier.await(TimeUnit.MILLISECONDS.toNanos(50)));
        assertThrows(BrokenBarrierException.class, () -> barrier.await(LONG));
    }
}
