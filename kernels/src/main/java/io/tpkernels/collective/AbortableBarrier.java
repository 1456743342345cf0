package io.tpkernels.collective;

import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A cyclic barrier of {@code parties} threads that an abort breaks for good: ranks waiting when it comes and ranks
 * arriving after it both throw at once. A {@link java.util.concurrent.CyclicBarrier} reset on abort wakes only the
 * ranks already waiting: a rank that had checked the abort flag just before, and reached the barrier just after,
 * waited the whole timeout for a rank that had already failed. Here the abort and the arrival are decided under
 * one lock, so no arrival can fall between them. A party interrupted while waiting aborts it too (an interrupt
 * before it arrives does not: {@code LocalGroup} aborts the group then).
 */
final class AbortableBarrier {
    private final int parties;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition tripped = lock.newCondition();
    private int waiting;
    private long generation;
    private boolean aborted;

    AbortableBarrier(int parties) {
        this.parties = parties;
    }

    /**
     * Waits until all parties have arrived. Throws {@link BrokenBarrierException} if the barrier is or becomes
     * aborted, {@link TimeoutException} if {@code nanos} pass first (which aborts it for the others too).
     */
    void await(long nanos) throws InterruptedException, BrokenBarrierException, TimeoutException {
        lock.lockInterruptibly();
        try {
            if (aborted) {
                throw new BrokenBarrierException();
            }
            long mine = generation;
            if (++waiting == parties) {
                waiting = 0;
                generation++;
                tripped.signalAll();
                return;
            }
            long left = nanos;
            while (generation == mine) {
                if (aborted) {
                    throw new BrokenBarrierException();
                }
                if (left <= 0) {
                    abortLocked();
                    throw new TimeoutException();
                }
                try {
                    left = tripped.awaitNanos(left);
                } catch (InterruptedException e) {
                    if (generation != mine) { // the barrier tripped first: this rank is through; keep the interrupt
                        Thread.currentThread().interrupt();
                        return;
                    }
                    abortLocked();
                    throw e;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** How many parties are waiting now (for tests). */
    int waiting() {
        lock.lock();
        try {
            return waiting;
        } finally {
            lock.unlock();
        }
    }

    /** Breaks the barrier for every rank waiting now and every rank arriving later. */
    void abort() {
        lock.lock();
        try {
            abortLocked();
        } finally {
            lock.unlock();
        }
    }

    private void abortLocked() {
        aborted = true;
        tripped.signalAll();
    }
}
