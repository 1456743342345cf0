package io.tpkernels.ops.cpu;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Supplier;

/**
 * Scratch for the tasks of the CPU GEMM: a task takes a set when it starts and gives it back when it ends, so there
 * are as many sets as tasks ever ran at once, reused from call to call, and none belongs to a thread (a thread-local
 * set would be made again for every thread that ever runs a task, virtual threads included).
 */
final class ScratchPool<T> {
    private final ConcurrentLinkedQueue<T> free = new ConcurrentLinkedQueue<>();
    private final Supplier<T> create;

    ScratchPool(Supplier<T> create) {
        this.create = create;
    }

    /** A set no other task holds: one given back, or a new one. */
    T take() {
        T t = free.poll();
        return t != null ? t : create.get();
    }

    /** Gives back a set taken from this pool; its contents are the next taker's to overwrite. */
    void give(T t) {
        free.offer(t);
    }
}
