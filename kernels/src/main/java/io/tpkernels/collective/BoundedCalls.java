package io.tpkernels.collective;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One rank's calls into a library that may block the calling thread forever, each waited for at most a timeout.
 * NCCL's blocking calls ({@code ncclCommInitRank}, {@code ncclCommInitAll}, and a {@code ncclGroupEnd} or first
 * collective that sets up connections) wait inside the library for peers that may never come, and nothing in the
 * blocking API hands control back. So they run on a helper daemon thread, and the caller waits for them: past the
 * timeout it stops waiting, runs the give-up action (aborting the communicator, where there is one, which is what
 * ends a call stuck in it), and throws a {@link CollectiveException} naming the call, the rank and the timeout.
 *
 * <p>Every call of one rank runs on the same helper thread, in order: NCCL keeps its group state
 * ({@code ncclGroupStart}/{@code End}) per thread, and CUDA its current context, so calls that belong together must
 * not be spread over threads. After a timeout the helper is presumed stuck and every later call throws at once,
 * naming the call that never returned. A call that does return after its caller gave up hands its result to the
 * call's {@code late} action (a communicator nobody will use is aborted there), on the helper thread.
 */
final class BoundedCalls implements AutoCloseable {

    /** A call to make on the helper thread. */
    @FunctionalInterface
    interface Call<T> {
        T call() throws Exception;
    }

    private final String rankName;
    private final Duration timeout;
    private final LinkedBlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
    private final Thread helper;
    private volatile String stuck;
    /** Why {@code onStart} failed on the helper thread: every call then fails with it. */
    private volatile RuntimeException startFailure;

    /**
     * A helper thread for {@code rankName} ("rank 3"), waiting at most {@code timeout} for each call; it runs
     * {@code onStart} first (making the rank's CUDA device current there).
     */
    BoundedCalls(String rankName, Duration timeout, Runnable onStart) {
        this.rankName = Objects.requireNonNull(rankName, "rankName");
        this.timeout = Timeouts.requirePositive(timeout);
        this.helper = Thread.ofPlatform().daemon().name("tpk-bounded-calls-" + rankName.replace(' ', '-')).unstarted(() -> {
            try {
                onStart.run();
            } catch (RuntimeException e) {
                startFailure = e;
            }
            serve();
        });
        helper.start();
    }

    private void serve() {
        try {
            while (true) {
                queue.take().run();
            }
        } catch (InterruptedException e) {
            // closed
        }
    }

    /** Whether the calls run on the helper thread (for callers that must know where they are). */
    boolean onHelperThread() {
        return Thread.currentThread() == helper;
    }

    /**
     * Runs {@code call} on the helper thread and returns its result, or rethrows its exception as it was; throws a
     * {@link CollectiveException} if it takes longer than the timeout, after running {@code giveUp}.
     *
     * @param what   the call, as the message names it: {@code "ncclCommInitRank(nranks=4, rank=3)"}
     * @param giveUp run on the caller's thread when the timeout passes (abort the communicator), or {@code null}
     * @param late   given the result of a call that returned after its caller gave up, or {@code null}
     */
    <T> T call(String what, Call<T> call, Runnable giveUp, Consumer<? super T> late) {
        String s = stuck;
        if (s != null) {
            throw new CollectiveException(rankName + " cannot call " + what + ": " + s);
        }
        // Whoever claims the call first owns its outcome: the helper (it finished in time) or the caller (gave up).
        AtomicBoolean claimed = new AtomicBoolean();
        CompletableFuture<T> result = new CompletableFuture<>();
        queue.add(() -> {
            try {
                if (startFailure != null) {
                    throw new CollectiveException(rankName + ": the thread for " + what + " could not start: "
                            + startFailure.getMessage(), startFailure);
                }
                T value = call.call();
                if (claimed.compareAndSet(false, true)) {
                    result.complete(value);
                } else if (late != null) {
                    late.accept(value);
                }
            } catch (Throwable t) {
                if (claimed.compareAndSet(false, true)) {
                    result.completeExceptionally(t);
                }
            }
        });
        try {
            return result.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            if (!claimed.compareAndSet(false, true)) {
                return join(result, what); // it finished just now: the result is being handed over
            }
            String message = rankName + ": " + what + " did not return within " + timeout.toMillis() + " ms (a peer"
                    + " failed or never arrived)";
            stuck = what + " never returned (" + rankName + " gave up on it after " + timeout.toMillis() + " ms)";
            if (giveUp != null) {
                try {
                    giveUp.run();
                } catch (RuntimeException abortFailed) {
                    CollectiveException ce = new CollectiveException(message);
                    ce.addSuppressed(abortFailed);
                    throw ce;
                }
            }
            throw new CollectiveException(message);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (claimed.compareAndSet(false, true)) {
                stuck = what + " was abandoned when " + rankName + " was interrupted";
                if (giveUp != null) {
                    giveUp.run();
                }
            }
            throw new CollectiveException(rankName + " was interrupted waiting for " + what);
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        }
    }

    private static <T> T join(CompletableFuture<T> result, String what) {
        try {
            return result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CollectiveException("interrupted waiting for " + what);
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        throw new CollectiveException(t.toString(), t);
    }

    /** Ends the helper thread once it is idle; one stuck in a call stays (a daemon) until the call returns. */
    @Override
    public void close() {
        helper.interrupt();
    }
}
