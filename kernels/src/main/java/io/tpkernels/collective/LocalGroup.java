package io.tpkernels.collective;

import static io.tpkernels.collective.Agreement.NO_DIM;

import io.tpkernels.runtime.CudaEvent;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Slabs;
import io.tpkernels.runtime.Tensor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * A {@link ProcessGroup} whose ranks are threads of one JVM: the group for tests, CPU runs, and several ranks
 * sharing one GPU. {@link #run} starts the ranks and returns their results or rethrows.
 *
 * <p>A collective is a rendezvous: every rank posts its tensor, waits for the others (up to the timeout), checks
 * that all posted alike, computes its own result from everyone's tensors (reductions in rank order 0..n−1, so
 * results are bitwise reproducible), waits again so no tensor changes while another rank reads it, then writes
 * in-place results. On a GPU the ranks' tensors must share one device, and the host waits for nothing: each rank
 * records an event on its context's stream when it posts and when it has read what it needs, and the other ranks'
 * streams wait for those events before they read its tensor or write theirs (the barriers order the host calls,
 * the events the device work).
 *
 * <p>One rank's exception aborts the group: ranks waiting in or entering a collective get a
 * {@link CollectiveException} naming the failed rank. A rank that does not arrive within the timeout aborts the
 * group the same way, naming the missing ranks. Nobody hangs.
 */
public final class LocalGroup implements ProcessGroup {
    /** The timeout when none is given. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
    /** How long {@link #run} waits past a failure for ranks stuck outside any collective before giving up on them. */
    private static final Duration STRAGGLER_SLACK = Duration.ofSeconds(2);

    /**
     * The work of one rank.
     *
     * @param <T> what a rank returns
     */
    @FunctionalInterface
    public interface RankTask<T> {
        /**
         * Runs rank {@code group.rank()}'s part.
         *
         * @param group this rank's group
         * @return the rank's result
         * @throws Exception anything the rank's work throws; it aborts the group
         */
        T run(ProcessGroup group) throws Exception;
    }

    /**
     * A sent tensor's copy, and on a GPU the event behind the copy on the sender's stream, which the receiver's stream
     * waits for before it reads the copy.
     */
    private record Message(Tensor tensor, CudaEvent sent) {
    }

    /** What one rank posted for one collective: its arguments, and the tensor the others read. */
    private record Post(long sequence, Agreement.Call call, Tensor tensor, CudaEvent ready) {
    }

    /**
     * The abort state of every group started together (one group, or the tensor- and pipeline-parallel groups of
     * a mesh): a failure in one aborts them all, so no rank waits in a group the failure never touches.
     */
    private static final class Fate {
        final AtomicReference<CollectiveException> abort = new AtomicReference<>();
        /** What caused the abort: the first failing rank's own exception, or the abort itself (a timeout). */
        final AtomicReference<Throwable> cause = new AtomicReference<>();
        final List<AbortableBarrier> barriers = new java.util.concurrent.CopyOnWriteArrayList<>();
    }

    /** The state the ranks of one group share. */
    private static final class Shared {
        final int size;
        final long timeoutNanos;
        final AbortableBarrier barrier;
        final Post[] posts;
        /** Each rank's slab of an all-reduce's result, read by every rank between two barriers. */
        final Tensor[] reduced;
        /** Each rank's event recorded after it has read what it needs, waited for before in-place results are written. */
        final CudaEvent[] done;
        /**
         * Every rank's ordering events, destroyed when the last rank closes its group: a rank that returns from its
         * last collective first must not destroy an event a slower rank is about to queue a wait on.
         */
        final ConcurrentLinkedQueue<CudaEvent> events = new ConcurrentLinkedQueue<>();
        final AtomicInteger open;
        final AtomicReference<CollectiveException> abort;
        final AtomicReference<Throwable> cause;
        final LinkedBlockingQueue<Message>[][] mail;
        private final Fate fate;

        @SuppressWarnings("unchecked")
        Shared(int size, Duration timeout, Fate fate) {
            this.size = size;
            this.timeoutNanos = timeout.toNanos();
            this.barrier = new AbortableBarrier(size);
            this.posts = new Post[size];
            this.reduced = new Tensor[size];
            this.done = new CudaEvent[size];
            this.open = new AtomicInteger(size);
            this.fate = fate;
            this.abort = fate.abort;
            this.cause = fate.cause;
            fate.barriers.add(barrier);
            this.mail = new LinkedBlockingQueue[size][size];
            for (LinkedBlockingQueue<Message>[] row : mail) {
                for (int i = 0; i < row.length; i++) {
                    row[i] = new LinkedBlockingQueue<>();
                }
            }
        }

        void abort(CollectiveException e) {
            abort(e, e);
        }

        void abort(CollectiveException e, Throwable why) {
            if (abort.compareAndSet(null, e)) {
                cause.set(why);
                fate.barriers.forEach(AbortableBarrier::abort); // every rank waiting in a collective, or arriving later
            }
        }
    }

    private final Shared shared;
    private final int rank;
    private long sequence;
    private boolean closed;
    /**
     * This rank's two ordering events on a GPU, created with its first collective there and re-recorded by each: the
     * others queue their waits between the two barriers of a collective, before this rank can record again.
     */
    private CudaEvent ready;
    private CudaEvent done;
    /** The thread inside one of this rank's collectives, if any: a rank's group belongs to one thread at a time. */
    private final AtomicReference<Thread> user = new AtomicReference<>();

    private LocalGroup(Shared shared, int rank) {
        this.shared = shared;
        this.rank = rank;
    }

    /**
     * Runs {@code task} on {@code size} ranks with the default timeout of 60 s.
     *
     * @param <T> what a rank returns
     * @param size the number of ranks, at least 1
     * @param task each rank's work
     * @return the ranks' results, in rank order
     * @throws IllegalArgumentException when {@code size < 1}
     * @throws RuntimeException the first rank's failure (a checked one wrapped in a {@link CollectiveException}), the
     *     others' attached as suppressed
     */
    public static <T> List<T> run(int size, RankTask<T> task) {
        return run(size, DEFAULT_TIMEOUT, task);
    }

    /**
     * Runs {@code task} on {@code size} rank threads and returns their results in rank order. If any rank fails,
     * throws the first failure (other ranks' exceptions attached as suppressed) once every rank has ended, or
     * {@code timeout} plus a short slack after the failure for ranks that never reach a collective again.
     *
     * @param <T> what a rank returns
     * @param size the number of ranks, at least 1
     * @param timeout how long a rank waits for the others in a collective, positive
     * @param task each rank's work
     * @return the ranks' results, in rank order
     * @throws IllegalArgumentException when {@code size < 1} or the timeout is not positive
     * @throws RuntimeException the first rank's failure (a checked one wrapped in a {@link CollectiveException}), the
     *     others' attached as suppressed
     */
    public static <T> List<T> run(int size, Duration timeout, RankTask<T> task) {
        if (size < 1) {
            throw new IllegalArgumentException("a group needs at least 1 rank, got " + size);
        }
        Timeouts.requirePositive(timeout);
        Shared shared = new Shared(size, timeout, new Fate());
        return runRanks(size, timeout, shared, rank -> "rank " + rank, rank -> {
            try (LocalGroup group = new LocalGroup(shared, rank)) {
                return task.run(group);
            }
        });
    }

    /**
     * The work of one rank of a mesh.
     *
     * @param <T> what a rank returns
     */
    @FunctionalInterface
    public interface MeshTask<T> {
        /**
         * Runs the part of the rank at {@code mesh.stage()}, {@code mesh.tpRank()}.
         *
         * @param mesh this rank's two groups
         * @return the rank's result
         * @throws Exception anything the rank's work throws; it aborts every group of the mesh
         */
        T run(Mesh mesh) throws Exception;
    }

    /**
     * Runs {@code task} on {@code tp·pp} rank threads arranged as a mesh: each pipeline stage is a tensor-parallel
     * group of {@code tp} ranks, and the ranks of equal tensor-parallel rank across the stages form a pipeline
     * group of {@code pp} ranks. Results come back in world-rank order ({@code stage·tp + tpRank}). A failure in
     * any group aborts all of them, as in {@link #run(int, Duration, RankTask)}.
     *
     * @param <T> what a rank returns
     * @param tp the ranks of each pipeline stage, at least 1
     * @param pp the pipeline stages, at least 1
     * @param timeout how long a rank waits for the others in a collective, positive
     * @param task each rank's work
     * @return the ranks' results, in world-rank order
     * @throws IllegalArgumentException when {@code tp} or {@code pp} is below 1, or the timeout is not positive
     * @throws RuntimeException the first rank's failure (a checked one wrapped in a {@link CollectiveException}), the
     *     others' attached as suppressed
     */
    public static <T> List<T> runMesh(int tp, int pp, Duration timeout, MeshTask<T> task) {
        if (tp < 1 || pp < 1) {
            throw new IllegalArgumentException("a mesh needs tp >= 1 and pp >= 1, got tp " + tp + " and pp " + pp);
        }
        Timeouts.requirePositive(timeout);
        Fate fate = new Fate();
        Shared[] stageGroups = new Shared[pp];
        for (int s = 0; s < pp; s++) {
            stageGroups[s] = new Shared(tp, timeout, fate);
        }
        Shared[] pipelineGroups = new Shared[tp];
        for (int r = 0; r < tp; r++) {
            pipelineGroups[r] = new Shared(pp, timeout, fate);
        }
        return runRanks(Math.multiplyExact(tp, pp), timeout, stageGroups[0],
                w -> "rank " + w + " (stage " + w / tp + ", tp rank " + w % tp + ")", w -> {
                    int stage = w / tp;
                    int tpRank = w % tp;
                    try (LocalGroup tensor = new LocalGroup(stageGroups[stage], tpRank);
                         LocalGroup pipeline = new LocalGroup(pipelineGroups[tpRank], stage)) {
                        return task.run(new Mesh(tensor, pipeline));
                    }
                });
    }

    /** The body of one rank thread. */
    private interface RankBody<T> {
        T run(int rank) throws Exception;
    }

    /**
     * Runs {@code world} rank threads and returns their results in rank order. If any rank fails, throws the
     * first failure (other ranks' exceptions attached as suppressed) once every rank has ended, or
     * {@code timeout} plus a short slack after the failure for ranks that never reach a collective again.
     */
    private static <T> List<T> runRanks(int world, Duration timeout, Shared shared, IntFunction<String> rankName,
                                        RankBody<T> body) {
        List<T> results = new ArrayList<>(java.util.Collections.nCopies(world, null));
        Throwable[] failures = new Throwable[world];
        Thread[] threads = new Thread[world];
        for (int r = 0; r < world; r++) {
            int rank = r;
            threads[r] = Thread.ofPlatform().daemon().name("tpk-rank-" + r).unstarted(() -> {
                try {
                    results.set(rank, body.run(rank));
                } catch (Throwable t) {
                    failures[rank] = t;
                    shared.abort(t instanceof CollectiveException c ? c
                            : new CollectiveException(rankName.apply(rank) + " failed: " + t, t), t);
                }
            });
            threads[r].start();
        }
        joinAll(threads, shared, timeout.plus(STRAGGLER_SLACK));
        // The cause of the abort, not what it caused in others (nor a straggler's interruption).
        Throwable first = shared.cause.get();
        if (first != null) {
            for (Throwable f : failures) {
                if (f != null && f != first) {
                    first.addSuppressed(f);
                }
            }
            if (first instanceof RuntimeException re) {
                throw re;
            }
            if (first instanceof Error err) {
                throw err;
            }
            throw new CollectiveException("a rank failed: " + first, first);
        }
        return results;
    }

    /** Waits for every thread; once the group has failed, waits at most {@code grace} more, then interrupts. */
    private static void joinAll(Thread[] threads, Shared shared, Duration grace) {
        long giveUpAt = Long.MAX_VALUE;
        for (Thread t : threads) {
            while (t.isAlive()) {
                if (shared.abort.get() != null && giveUpAt == Long.MAX_VALUE) {
                    giveUpAt = System.nanoTime() + grace.toNanos();
                }
                if (System.nanoTime() > giveUpAt) {
                    for (Thread s : threads) {
                        s.interrupt(); // a rank stuck outside any collective: we stop waiting for it
                    }
                    return;
                }
                try {
                    t.join(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    shared.abort(new CollectiveException("the thread running the group was interrupted"));
                    return;
                }
            }
        }
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return shared.size;
    }

    // ---- the rendezvous

    private void checkUsable() {
        if (closed) {
            throw new IllegalStateException("rank " + rank + " used its group after closing it");
        }
        CollectiveException e = shared.abort.get();
        if (e != null) {
            throw new CollectiveException(e.getMessage(), e);
        }
    }

    /**
     * Posts, waits for everyone, checks that all posted alike (the {@link Agreement}, on every rank, so a bad
     * argument fails every rank with the same message); returns everyone's posts.
     */
    private Post[] rendezvous(ExecutionContext ctx, String op, Tensor tensor, int root, int dim, int dim2,
                              ReduceOp reduce) {
        checkUsable();
        if (tensor != null) {
            ctx.requireOn(op, tensor);
        }
        CudaEvent posted = null;
        if (ctx != null && ctx.isCuda()) {
            ensureEvents(ctx);
            posted = ready;
            posted.record(ctx.stream()); // the work that wrote this rank's tensor, which the others wait for
        }
        Post mine = new Post(++sequence, Agreement.Call.of(op, tensor, root, dim, dim2, reduce), tensor, posted);
        shared.posts[rank] = mine;
        await(op, mine.sequence());
        Post[] all = shared.posts.clone();
        String mismatch = Agreement.problem(Arrays.stream(all).map(Post::call).toArray(Agreement.Call[]::new));
        if (mismatch != null) {
            CollectiveException e = new CollectiveException(mismatch);
            shared.abort(e);
            throw e;
        }
        if (posted != null) {
            for (Post p : all) {
                if (p.ready() != null && p.ready() != posted) {
                    ctx.waitFor(p.ready());
                }
            }
        }
        return all;
    }

    /** Creates this rank's ordering events, {@link #ready} and {@link #done}, on first use. */
    private void ensureEvents(ExecutionContext ctx) {
        if (ready == null) {
            ready = CudaEvent.createUntimed(ctx.cudaDevice());
            shared.events.add(ready);
            done = CudaEvent.createUntimed(ctx.cudaDevice());
            shared.events.add(done);
        }
    }

    /**
     * The second wait: everyone has read what they need (on a GPU: queued it, with an event behind it that this
     * rank's stream then waits for); in-place results may now be written, and inputs freed.
     */
    private void release(ExecutionContext ctx, String op) {
        boolean device = ctx != null && ctx.isCuda();
        if (device) {
            ensureEvents(ctx);
            done.record(ctx.stream());
            shared.done[rank] = done;
        }
        await(op, sequence);
        if (device) {
            for (int q = 0; q < shared.size; q++) {
                if (q != rank) {
                    ctx.waitFor(shared.done[q]);
                }
            }
        }
    }

    private void await(String op, long seq) {
        try {
            shared.barrier.await(shared.timeoutNanos);
        } catch (TimeoutException e) {
            List<Integer> missing = new ArrayList<>();
            for (int r = 0; r < shared.size; r++) {
                Post p = shared.posts[r];
                if (p == null || p.sequence() < seq) {
                    missing.add(r);
                }
            }
            shared.abort(new CollectiveException("rank " + rank + " waited " + Duration.ofNanos(shared.timeoutNanos)
                    .toMillis() + " ms in " + op + " (collective #" + seq + "); ranks " + missing + " did not arrive"));
            throw new CollectiveException(shared.abort.get().getMessage());
        } catch (BrokenBarrierException e) {
            throw new CollectiveException(abortMessage(op));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            shared.abort(new CollectiveException("rank " + rank + " was interrupted in " + op));
            throw new CollectiveException(abortMessage(op));
        }
    }

    /** The abort's message; the aborting rank may still be recording it when the barrier breaks. */
    private String abortMessage(String op) {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (shared.abort.get() == null && System.nanoTime() < until) {
            Thread.onSpinWait();
        }
        CollectiveException e = shared.abort.get();
        return e != null ? e.getMessage() : "the group was broken while rank " + rank + " waited in " + op;
    }

    // ---- the collectives

    /**
     * Each rank reduces one slab of the elements over every rank's input (in rank order, so the bits are those of
     * one reduction of the whole), then copies every rank's slab into its own tensor: the group reduces the tensor
     * once, not once per rank.
     */
    @Override
    public void allReduce(ExecutionContext ctx, Tensor tensor, ReduceOp op) {
        exclusive("allReduce", () -> {
            Post[] all = rendezvous(ctx, "allReduce", tensor, -1, NO_DIM, NO_DIM, op);
            long n = tensor.numel();
            try (Tensor mine = Tensor.allocate(ctx, tensor.dtype(), slabEnd(n, rank) - slabStart(n, rank))) {
                List<Tensor> inputs = new ArrayList<>(all.length);
                for (Post p : all) {
                    inputs.add(slab(p.tensor(), n, rank));
                }
                Reductions.reduce(inputs, mine, op, ctx); // views of the posted tensors: nothing to free
                shared.reduced[rank] = mine;
                release(ctx, "allReduce"); // every slab reduced and every input read: results may be written
                for (int q = 0; q < size(); q++) {
                    try (Tensor into = slab(tensor, n, q)) {
                        copy(ctx, shared.reduced[q], into);
                    }
                }
                release(ctx, "allReduce"); // everyone has copied: the slabs may be freed
            }
            return null;
        });
    }

    /** {@code into := from}, queued on {@code ctx} on a GPU. */
    private static void copy(ExecutionContext ctx, Tensor from, Tensor into) {
        if (ctx.isCuda()) {
            into.copyFromAsync(from, ctx.stream());
            ctx.wrote(into);
        } else {
            into.copyFrom(from);
        }
    }

    private long slabStart(long n, int r) {
        return n * r / size();
    }

    private long slabEnd(long n, int r) {
        return n * (r + 1) / size();
    }

    /** Elements {@code [slabStart, slabEnd)} of rank {@code r}'s slab of {@code t}, flattened (a view). */
    private Tensor slab(Tensor t, long n, int r) {
        return t.reshape(n).rows(slabStart(n, r), slabEnd(n, r));
    }

    private Tensor allGatherOwned(ExecutionContext ctx, Tensor tensor, int dim) {
        Post[] all = rendezvous(ctx, "allGather", tensor, -1, dim, NO_DIM, null);
        int d = Agreement.normalize(dim, tensor.rank()); // in range: the agreement checked it
        long len = tensor.dim(d);
        Tensor out = Tensor.allocate(ctx, tensor.dtype(), Slabs.withDim(tensor, d, len * size()));
        try {
            for (int r = 0; r < size(); r++) {
                Slabs.copy(ctx, all[r].tensor(), d, 0, out, r * len, len);
            }
            release(ctx, "allGather");
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    private Tensor reduceScatterOwned(ExecutionContext ctx, Tensor tensor, int dim, ReduceOp op) {
        Post[] all = rendezvous(ctx, "reduceScatter", tensor, -1, dim, NO_DIM, op);
        int d = Agreement.normalize(dim, tensor.rank()); // in range and divisible: the agreement checked it
        long len = tensor.dim(d) / size();
        Tensor out = Tensor.allocate(ctx, tensor.dtype(), Slabs.withDim(tensor, d, len));
        List<Tensor> slabs = new ArrayList<>();
        try {
            for (Post p : all) {
                if (d == 0) {
                    slabs.add(p.tensor().rows(rank * len, (rank + 1) * len)); // contiguous: a view, no copy
                    continue;
                }
                Tensor slab = Tensor.allocate(ctx, tensor.dtype(), Slabs.withDim(tensor, d, len));
                slabs.add(slab);
                Slabs.copy(ctx, p.tensor(), d, rank * len, slab, 0, len);
            }
            Reductions.reduce(slabs, out, op, ctx);
            release(ctx, "reduceScatter");
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        } finally {
            slabs.forEach(Tensor::close);
        }
    }

    private Tensor allToAllOwned(ExecutionContext ctx, Tensor tensor, int splitDim, int concatDim) {
        Post[] all = rendezvous(ctx, "allToAll", tensor, -1, splitDim, concatDim, null);
        int s = Agreement.normalize(splitDim, tensor.rank()); // in range and divisible: the agreement checked it
        int c = Agreement.normalize(concatDim, tensor.rank());
        long len = tensor.dim(s) / size();
        long[] slabShape = Slabs.withDim(tensor, s, len);
        Tensor out = Tensor.allocate(ctx, tensor.dtype(), AllToAllShape.of(slabShape, c, size()));
        try (Tensor slab = Tensor.allocate(ctx, tensor.dtype(), slabShape)) {
            for (int i = 0; i < size(); i++) {
                Slabs.copy(ctx, all[i].tensor(), s, rank * len, slab, 0, len);
                Slabs.copy(ctx, slab, c, 0, out, i * slabShape[c], slabShape[c]);
            }
            release(ctx, "allToAll");
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    private void broadcastOwned(ExecutionContext ctx, Tensor tensor, int root) {
        Post[] all = rendezvous(ctx, "broadcast", tensor, root, NO_DIM, NO_DIM, null);
        if (rank != root) {
            copy(ctx, all[root].tensor(), tensor);
        }
        release(ctx, "broadcast");
    }

    private Tensor scatterFromRankOwned(ExecutionContext ctx, Tensor fullOnRoot, int root, int dim) {
        Post[] all = rendezvous(ctx, "scatterFromRank", rank == root ? fullOnRoot : null, root, dim, NO_DIM, null);
        Tensor full = all[root].tensor();
        int d = Agreement.normalize(dim, full.rank()); // in range and divisible: the agreement checked it
        long len = full.dim(d) / size();
        if (rank == root && d == 0) {
            Tensor view = full.rows(rank * len, (rank + 1) * len); // the root's slab: no copy
            release(ctx, "scatterFromRank");
            return view;
        }
        Tensor out = Tensor.allocate(ctx, full.dtype(), Slabs.withDim(full, d, len));
        try {
            Slabs.copy(ctx, full, d, rank * len, out, 0, len);
            release(ctx, "scatterFromRank");
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    private void sendOwned(ExecutionContext ctx, Tensor tensor, int dst) {
        checkPeer(dst);
        checkUsable();
        ctx.requireOn("send", tensor);
        if (!ctx.isCuda()) {
            shared.mail[rank][dst].add(new Message(tensor.copyTo(tensor.device()), null));
            return;
        }
        // What is sent leaves this context: a device check on its inputs (a bad token id) is read first.
        ctx.readDeferredChecks();
        // Queued: a copy in this stream's order, and an event behind it for the receiver's stream to wait for. The
        // receiver frees the copy in its own stream's order, after its read.
        Tensor copy = Tensor.allocate(ctx, tensor.dtype(), tensor.shape());
        try {
            copy.copyFromAsync(tensor, ctx.stream());
            shared.mail[rank][dst].add(new Message(copy, ctx.recordEvent()));
        } catch (RuntimeException e) {
            copy.close();
            throw e;
        }
    }

    private void recvOwned(ExecutionContext ctx, Tensor into, int src) {
        ctx.requireOn("recv", into);
        checkPeer(src);
        long deadline = System.nanoTime() + shared.timeoutNanos;
        Message message = null;
        while (message == null) {
            checkUsable();
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                shared.abort(new CollectiveException("rank " + rank + " waited " + TimeUnit.NANOSECONDS.toMillis(
                        shared.timeoutNanos) + " ms to receive from rank " + src + ", which sent nothing"));
                checkUsable();
            }
            try {
                message = shared.mail[src][rank].poll(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)),
                        TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                shared.abort(new CollectiveException("rank " + rank + " was interrupted in recv"));
                checkUsable();
            }
        }
        Tensor m = message.tensor();
        CudaEvent sent = message.sent();
        try {
            String mismatch = Agreement.pairProblem(Agreement.Call.of("send", m, rank, NO_DIM, NO_DIM, null), src,
                    Agreement.Call.of("recv", into, src, NO_DIM, NO_DIM, null), rank);
            if (mismatch != null) {
                throw new CollectiveException(mismatch); // the sender learns it from the abort this causes
            }
            if (sent == null) {
                into.copyFrom(m);
            } else {
                ctx.waitFor(sent);
                into.copyFromAsync(m, ctx.stream());
                ctx.wrote(into);
            }
        } finally {
            if (sent != null) {
                sent.close(); // the wait is queued; the driver keeps what it needs of the event
                m.closeOn(ctx); // after the read, in this stream's order
            } else {
                m.close();
            }
        }
    }

    private void barrierOwned() {
        rendezvous(null, "barrier", null, -1, NO_DIM, NO_DIM, null);
        // Everyone has read the posts only after this second wait; without it a fast rank's next post could
        // overwrite its barrier post while a slow rank still checks them (seen as a false mismatch).
        release(null, "barrier");
    }

    @Override
    public Tensor allGather(ExecutionContext ctx, Tensor tensor, int dim) {
        return exclusive("allGather", () -> allGatherOwned(ctx, tensor, dim));
    }

    @Override
    public Tensor reduceScatter(ExecutionContext ctx, Tensor tensor, int dim, ReduceOp op) {
        return exclusive("reduceScatter", () -> reduceScatterOwned(ctx, tensor, dim, op));
    }

    @Override
    public Tensor allToAll(ExecutionContext ctx, Tensor tensor, int splitDim, int concatDim) {
        return exclusive("allToAll", () -> allToAllOwned(ctx, tensor, splitDim, concatDim));
    }

    @Override
    public void broadcast(ExecutionContext ctx, Tensor tensor, int root) {
        exclusive("broadcast", () -> {
            broadcastOwned(ctx, tensor, root);
            return null;
        });
    }

    @Override
    public Tensor scatterFromRank(ExecutionContext ctx, Tensor fullOnRoot, int root, int dim) {
        return exclusive("scatterFromRank", () -> scatterFromRankOwned(ctx, fullOnRoot, root, dim));
    }

    @Override
    public void send(ExecutionContext ctx, Tensor tensor, int dst) {
        exclusive("send", () -> {
            sendOwned(ctx, tensor, dst);
            return null;
        });
    }

    @Override
    public void recv(ExecutionContext ctx, Tensor into, int src) {
        exclusive("recv", () -> {
            recvOwned(ctx, into, src);
            return null;
        });
    }

    @Override
    public void barrier() {
        exclusive("barrier", () -> {
            barrierOwned();
            return null;
        });
    }

    /**
     * Runs one collective of this rank, refusing a second thread that calls into the same rank's group meanwhile (it
     * would post in this rank's place and count twice at the barrier, so that this rank returned while the others
     * timed out).
     */
    private <T> T exclusive(String op, Supplier<T> body) {
        Thread me = Thread.currentThread();
        Thread other = user.compareAndExchange(null, me);
        if (other != null && other != me) {
            throw new IllegalStateException("rank " + rank + "'s group was called (" + op + ") by thread \"" + me.getName()
                    + "\" while thread \"" + other.getName() + "\" was inside one of its collectives: a rank's group "
                    + "belongs to one thread at a time");
        }
        try {
            return body.get();
        } finally {
            if (other == null) {
                user.set(null);
            }
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (shared.open.decrementAndGet() == 0) {
            shared.events.forEach(CudaEvent::close);
        }
    }

    private void checkPeer(int peer) {
        if (peer < 0 || peer >= size() || peer == rank) {
            throw new IllegalArgumentException("rank " + rank + " cannot exchange with rank " + peer + " in a group of "
                    + size());
        }
    }
}
