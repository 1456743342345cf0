package io.tpkernels.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Races copies from and into a tensor on {@code device} against its close on another thread: each try must end
 * with the whole copy, correct (the close waited for it), or with an IllegalStateException naming use after close
 * (the copy began after closing began); never a driver error, a crash or wrong data.
 */
final class TensorCloseRace {
    private static final int ELEMENTS = 16 * 1024;

    private TensorCloseRace() {
    }

    static void run(Device device, int tries) throws Exception {
        float[] pattern = new float[ELEMENTS];
        for (int i = 0; i < ELEMENTS; i++) {
            pattern[i] = i * 0.5f - 7;
        }
        AtomicInteger whole = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (Tensor host = Tensor.ofFloats(DType.F32, pattern, ELEMENTS)) {
            for (int i = 0; i < tries; i++) {
                boolean from = i % 2 == 0; // copy from the closing tensor, or into it
                Tensor closing = host.copyTo(device);
                Tensor other = Tensor.allocate(Device.CPU, DType.F32, ELEMENTS);
                Tensor view = closing.rows(0, ELEMENTS); // the copy goes through a view: it shares the count
                CyclicBarrier start = new CyclicBarrier(2);
                int spin = i % 64;
                try {
                    Future<?> copy = pool.submit(() -> {
                        start.await();
                        if (from) {
                            other.copyFrom(view);
                        } else {
                            view.copyFrom(host);
                        }
                        return null;
                    });
                    Future<?> close = pool.submit(() -> {
                        start.await();
                        for (int s = 0; s < spin * 20; s++) {
                            Thread.onSpinWait();
                        }
                        closing.close();
                        return null;
                    });
                    close.get(60, TimeUnit.SECONDS); // close never fails
                    try {
                        copy.get(60, TimeUnit.SECONDS);
                        whole.incrementAndGet();
                        if (from) {
                            assertArrayEquals(pattern, other.toFloatArray(), "try " + i + ": the copy is whole");
                        }
                    } catch (java.util.concurrent.ExecutionException e) {
                        Throwable cause = e.getCause();
                        if (!(cause instanceof IllegalStateException) || !cause.getMessage().contains("used after")) {
                            fail("try " + i + " (copy " + (from ? "from" : "into") + " the closing tensor) failed with "
                                    + cause + ", not a whole copy or use after close", cause);
                        }
                        refused.incrementAndGet();
                    }
                } finally {
                    closing.close();
                    other.close();
                }
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(tries, whole.get() + refused.get());
        assertTrue(whole.get() + refused.get() > 0);
    }
}
