package io.tpkernels.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;

/**
 * Use and close of a tensor's memory are exclusive: close waits for the accesses in flight, an access that begins
 * after closing began is an IllegalStateException naming use after close, and views share their owner's count.
 * The races of copies against close are in {@link TensorCloseRace}.
 */
class TensorUseCloseTest {

    private static void assertUsedAfterClose(IllegalStateException e) {
        assertTrue(e.getMessage().contains("used after"), e.getMessage());
    }

    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    @Test
    void closeAfterACompletedAccessFreesAtOnce() {
        try (MemoryMeter meter = MemoryMeter.start()) {
            Tensor t = Tensor.allocate(Device.CPU, DType.F32, 256);
            assertEquals(1024, meter.liveBytes(Device.CPU));
            try (Memory.Access use = t.acquire()) {
                t.hostSegment().fill((byte) 1);
            }
            Assertions.assertTimeoutPreemptively(Duration.ofSeconds(10), t::close);
            assertFalse(t.isOpen());
            assertEquals(0, meter.liveBytes(Device.CPU), "freed by close, not later");
        }
    }

    @Test
    void doubleCloseOfTensorAndAccessIsHarmless() {
        Tensor t = Tensor.allocate(Device.CPU, DType.F32, 4);
        Memory.Access a = t.acquire();
        Memory.Access b = t.acquire();
        a.close();
        a.close(); // releases once: b still holds the memory
        CompletableFuture<Void> closing = CompletableFuture.runAsync(t::close);
        assertThrows(java.util.concurrent.TimeoutException.class, () -> closing.get(200, TimeUnit.MILLISECONDS),
                "b is still held");
        b.close();
        closing.join();
        t.close();
        t.close();
        assertFalse(t.isOpen());
        assertUsedAfterClose(assertThrows(IllegalStateException.class, t::acquire));
    }

    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    @Test
    void closeWaitsForAnAccessInFlightAndLaterAccessesFail() throws Exception {
        Tensor t = Tensor.ofFloats(DType.F32, new float[] {1, 2, 3, 4}, 4);
        Tensor view = t.rows(1, 3);
        CountDownLatch closeBegan = new CountDownLatch(1);
        CompletableFuture<Void> closing;
        try (Memory.Access use = view.acquire()) { // a view's access holds its owner's memory
            closing = CompletableFuture.runAsync(() -> {
                closeBegan.countDown();
                t.close();
            });
            closeBegan.await();
            while (t.isOpen()) {
                Thread.onSpinWait(); // until close has begun
            }
            Thread.sleep(50);
            assertFalse(closing.isDone(), "close waits for the access");
            // Under the access the memory is still there, whoever asked to close it.
            assertEquals(2f, DType.F32.getFloat(view.hostSegment(), 0));
            assertUsedAfterClose(assertThrows(IllegalStateException.class, t::acquire));
            assertUsedAfterClose(assertThrows(IllegalStateException.class, view::toFloatArray));
        }
        closing.get(10, TimeUnit.SECONDS);
        assertUsedAfterClose(assertThrows(IllegalStateException.class, view::hostSegment));
        assertUsedAfterClose(assertThrows(IllegalStateException.class,
                () -> view.copyFrom(Tensor.allocate(Device.CPU, DType.F32, 2))));
    }

    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    @Test
    void viewsWorkAsBeforeAndClosingThemFreesNothing() {
        try (Tensor t = Tensor.ofFloats(DType.F32, new float[] {0, 1, 2, 3, 4, 5}, 3, 2)) {
            Tensor rows = t.rows(1, 3);
            Tensor flat = rows.reshape(4);
            Tensor bytes = t.viewBytes(8, DType.I32, 2);
            assertArrayEquals(new float[] {2, 3, 4, 5}, flat.toFloatArray());
            flat.fillBytes((byte) 0);
            assertArrayEquals(new float[] {0, 1, 0, 0, 0, 0}, t.toFloatArray());
            try (Tensor src = Tensor.ofFloats(DType.F32, new float[] {7, 8}, 1, 2)) {
                rows.rows(1, 2).copyFrom(src);
            }
            assertArrayEquals(new float[] {0, 1, 0, 0, 7, 8}, t.toFloatArray());
            assertEquals(0, DType.I32.getLong(bytes.hostSegment(), 0));
            try (Memory.Access use = Tensor.acquireAll(rows, null, flat, rows)) {
                assertTrue(t.isOpen());
            }
            rows.close();
            flat.close();
            bytes.close();
            assertTrue(t.isOpen(), "closing a view frees nothing");
            assertArrayEquals(new float[] {0, 1, 0, 0, 7, 8}, t.toFloatArray());
        }
    }

    @Test
    void acquireAllReleasesWhatItHeldWhenOneIsClosed() {
        Tensor open = Tensor.allocate(Device.CPU, DType.F32, 2);
        Tensor closed = Tensor.allocate(Device.CPU, DType.F32, 2);
        closed.close();
        var e = assertThrows(IllegalStateException.class, () -> Tensor.acquireAll(open, closed));
        assertUsedAfterClose(e);
        assertTrue(e.getMessage().contains("[2] F32"), e.getMessage());
        Assertions.assertTimeoutPreemptively(Duration.ofSeconds(10), open::close, "nothing left held");
    }

    @Test
    void copiesRacingCloseOnTheHostEndWholeOrAsUseAfterClose() throws Exception {
        TensorCloseRace.run(Device.CPU, 300);
    }
}
