package io.tpkernels.runtime;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.Supplier;

/**
 * The open/closing state of one {@link Memory} and the count of its accesses in flight, for {@link Memory}
 * implementations: it makes use and close exclusive, as the scope of a shared {@link java.lang.foreign.Arena} does
 * for its segments.
 *
 * <p>An access ({@link #tryAcquire()} ... {@link #release()}) is one atomic increment and one atomic decrement of
 * a single word, uncontended in the common case. {@link #close()} sets the word's sign bit, after which every
 * acquire fails, and then waits until the accesses in flight have been released; only then may the owner free
 * the memory. So memory is never freed under an access, and an access never begins on memory being freed.
 *
 * <p>A thread must not close memory while it holds an access to that memory itself: the close would wait for
 * it forever.
 */
public final class Lifetime {
    /** The sign bit: set once closing began. The other bits count the accesses in flight. */
    private static final long CLOSING = Long.MIN_VALUE;
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Lifetime.class, "state", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // through STATE
    private volatile long state;

    /** An open lifetime with no access in flight. */
    public Lifetime() {
    }

    /**
     * Begins an access: true, and the memory stays open until {@link #release()}; false once closing began (and
     * nothing is held).
     */
    private boolean tryAcquire() {
        long before = (long) STATE.getAndAdd(this, 1L);
        if (before >= 0) {
            return true;
        }
        release(); // closing: undo the increment (and wake the closer if it was waiting on it)
        return false;
    }

    /** Ends an access begun by a successful {@link #tryAcquire()}; call exactly once per access. */
    private void release() {
        long after = (long) STATE.getAndAdd(this, -1L) - 1;
        if (after == CLOSING) {
            synchronized (this) {
                notifyAll();
            }
        }
    }

    /**
     * An access as an {@link Memory.Access} to close (once; a second close does nothing), or an
     * {@link IllegalStateException} with {@code useAfterClose}'s message once closing began.
     *
     * @param useAfterClose the message of the exception, built only when the acquire fails
     * @return the access
     * @throws IllegalStateException once closing began
     */
    public Memory.Access acquire(Supplier<String> useAfterClose) {
        if (!tryAcquire()) {
            throw new IllegalStateException(useAfterClose.get());
        }
        return new Held(this);
    }

    /**
     * Whether closing has not begun.
     *
     * @return {@code true} until {@link #close()} is first called
     */
    public boolean isOpen() {
        return (long) STATE.getVolatile(this) >= 0;
    }

    /**
     * Begins closing, so that every later acquire fails, and waits until no access is in flight (an interrupt
     * does not cut the wait short; it is kept for the caller). True for the call that began closing: the one that
     * frees the memory; false for later calls, which also return only once no access is in flight.
     *
     * @return whether this call began closing (and so frees the memory)
     */
    public boolean close() {
        boolean first = false;
        long s = (long) STATE.getVolatile(this);
        while (s >= 0) {
            if (STATE.compareAndSet(this, s, s | CLOSING)) {
                first = true;
                break;
            }
            s = (long) STATE.getVolatile(this);
        }
        awaitNoAccess();
        return first;
    }

    private void awaitNoAccess() {
        if ((long) STATE.getVolatile(this) == CLOSING) {
            return;
        }
        boolean interrupted = false;
        synchronized (this) {
            // A release that reaches CLOSING takes this monitor to notify, so it cannot slip between the check
            // and the wait.
            while ((long) STATE.getVolatile(this) != CLOSING) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** One access: released by its first close. Confined to the thread that acquired it. */
    private static final class Held implements Memory.Access {
        private Lifetime lifetime;

        Held(Lifetime lifetime) {
            this.lifetime = lifetime;
        }

        @Override
        public void close() {
            Lifetime l = lifetime;
            if (l != null) {
                lifetime = null;
                l.release();
            }
        }
    }
}
