package io.tpkernels.collective;

import static io.tpkernels.collective.Agreement.NO_DIM;

import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.ffm.nccl.Nccl;
import io.tpkernels.ffm.nccl.NcclApi;
import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.CudaStream;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Slabs;
import io.tpkernels.runtime.Tensor;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * A {@link ProcessGroup} over NCCL: one rank per GPU, in one process ({@link #initAll}) or one process per GPU
 * across hosts ({@link #fromEnvironment}, with the {@link Rendezvous}). Tensors live on this rank's device.
 *
 * <p>Collectives run on the caller's context's stream and return once queued. With the context's
 * {@link io.tpkernels.runtime.Tuning#collectiveChecks()} on, each first all-gathers a small header (operation,
 * dtype, shape, arguments) on the group's own stream and runs the {@link Agreement} on it, so a mismatch is an
 * error on every rank naming the rank and both shapes; a send and its recv swap headers the same way, so a mismatch
 * fails both ends instead of hanging; and the call waits for its work (bounded by the timeout below). That costs a
 * round trip per collective, so it is off by default: then a mismatch is NCCL's to find. A scatter always exchanges
 * headers, since the ranks other than the root learn the shape from them.
 *
 * <p>Nothing waits past the timeout. NCCL's host calls run on a helper thread of this rank ({@link BoundedCalls}):
 * a blocking one that does not return in time ({@code ncclCommInitRank} or {@code ncclCommInitAll} waiting for a
 * peer, a group end or collective setting up connections) is given up on, the communicator aborted where there is
 * one. Waiting for the stream polls the communicator's asynchronous error; past the timeout the communicator is
 * aborted. Either way every later call throws instead of hanging.
 */
public final class NcclGroup implements ProcessGroup {
    private static final int HEADER = NcclHeader.LONGS;
    /** How long an abort may take before the group stops waiting for it (it is a daemon thread's business then). */
    private static final Duration ABORT_WAIT = Duration.ofSeconds(10);

    private final CudaDevice device;
    private final BoundedCalls calls;
    private final int rank;
    private final int size;
    private final long timeoutNanos;
    private final CudaStream stream;
    private final Tensor headerHost;
    private final Tensor header;
    private final Tensor headers;
    private volatile MemorySegment comm;
    private volatile String broken;

    private NcclGroup(CudaDevice device, BoundedCalls calls, MemorySegment comm, int rank, int size, Duration timeout) {
        this.device = device;
        this.calls = calls;
        this.comm = comm;
        this.rank = rank;
        this.size = size;
        this.timeoutNanos = timeout.toNanos();
        device.makeCurrent();
        this.stream = CudaStream.create(device);
        this.headerHost = Tensor.allocate(Device.CPU, DType.I64, HEADER);
        this.header = Tensor.allocate(device.device(), DType.I64, HEADER);
        this.headers = Tensor.allocate(device.device(), DType.I64, size, HEADER);
    }

    /**
     * Whether NCCL was found.
     *
     * @return whether the NCCL library was found and loaded
     */
    public static boolean isAvailable() {
        return Nccl.isAvailable();
    }

    /**
     * Rank {@code rank} of {@code size} on {@code device}, all ranks sharing {@code uniqueId}. The blocking
     * {@code ncclCommInitRank} waits for every rank; if they are not all there within {@code timeout} this throws
     * a {@link CollectiveException} naming the call, the rank and the timeout (the stuck call is left on a daemon
     * thread, and a communicator it returns late is aborted).
     *
     * @param device this rank's device
     * @param rank this rank, in {@code [0, size)}
     * @param size the number of ranks
     * @param uniqueId NCCL's unique id, made by rank 0 and shared with the others (a {@link Rendezvous})
     * @param timeout how long blocking NCCL calls and stream waits may take, positive
     * @return the group, which the caller closes
     * @throws CollectiveException when the ranks do not all join within the timeout
     * @throws io.tpkernels.ffm.nccl.NcclException when NCCL refuses the communicator
     */
    public static NcclGroup initRank(CudaDevice device, int rank, int size, byte[] uniqueId, Duration timeout) {
        BoundedCalls calls = new BoundedCalls("rank " + rank, timeout, device::makeCurrent);
        try {
            MemorySegment comm = calls.call("ncclCommInitRank(nranks=" + size + ", rank=" + rank + ")",
                    () -> Nccl.commInitRank(size, uniqueId, rank), null, Nccl::commAbort);
            return build(device, calls, comm, rank, size, timeout);
        } catch (RuntimeException | Error e) {
            calls.close();
            throw e;
        }
    }

    /**
     * One process driving every listed device: rank i on {@code devices.get(i)}, initialized together by
     * {@code ncclCommInitAll} (bounded by {@code timeout} like {@link #initRank}).
     *
     * <p><b>Drive each returned group from its own thread</b>, as NCCL requires of one process driving several
     * GPUs without group calls: a collective returns only once every rank has joined it, so one thread calling
     * rank 0's collective and then rank 1's would wait for rank 1 forever (here: until the timeout, which aborts
     * the group). {@link #runEach} does this.
     *
     * @param devices the devices, one per rank in rank order
     * @param timeout how long blocking NCCL calls and stream waits may take, positive
     * @return the groups in rank order, each closed by its owner
     * @throws IllegalArgumentException when {@code devices} is empty
     * @throws CollectiveException when initialization does not finish within the timeout
     * @throws io.tpkernels.ffm.nccl.NcclException when NCCL refuses the communicators
     */
    public static List<NcclGroup> initAll(List<CudaDevice> devices, Duration timeout) {
        if (devices.isEmpty()) {
            throw new IllegalArgumentException("initAll needs at least one device");
        }
        int[] ordinals = devices.stream().mapToInt(CudaDevice::ordinal).toArray();
        MemorySegment[] comms;
        try (BoundedCalls init = new BoundedCalls("ranks 0.." + (ordinals.length - 1), timeout,
                devices.get(0)::makeCurrent)) {
            comms = init.call("ncclCommInitAll(ndev=" + ordinals.length + ", devices=" + Arrays.toString(ordinals) + ")",
                    () -> Nccl.commInitAll(ordinals), null, late -> Arrays.stream(late).forEach(Nccl::commAbort));
        }
        List<NcclGroup> out = new ArrayList<>();
        try {
            for (int i = 0; i < comms.length; i++) {
                CudaDevice d = devices.get(i);
                out.add(build(d, new BoundedCalls("rank " + i, timeout, d::makeCurrent), comms[i], i, comms.length,
                        timeout));
            }
            return out;
        } catch (RuntimeException | Error e) {
            out.forEach(NcclGroup::close);
            for (int i = out.size(); i < comms.length; i++) {
                Nccl.commAbort(comms[i]);
            }
            throw e;
        }
    }

    /** The group over an initialized communicator; on failure the communicator is aborted. */
    private static NcclGroup build(CudaDevice device, BoundedCalls calls, MemorySegment comm, int rank, int size,
                                   Duration timeout) {
        try {
            return new NcclGroup(device, calls, comm, rank, size, timeout);
        } catch (RuntimeException | Error e) {
            calls.close();
            Nccl.commAbort(comm);
            throw e;
        }
    }

    /**
     * Runs {@code task} for each group on a thread of its own, as NCCL requires of groups one process drives (see
     * {@link #initAll}), and returns the results in rank order; if any fails, throws the first failure once every
     * thread has ended (the others' failures suppressed in it). Ranks waiting for a failed one end by their
     * groups' timeout.
     *
     * @param <T> what a rank returns
     * @param groups the groups, one per rank
     * @param task each rank's work
     * @return the ranks' results, in rank order
     * @throws RuntimeException the first rank's failure (a checked one wrapped in a {@link CollectiveException}), the
     *     others' attached as suppressed
     */
    public static <T> List<T> runEach(List<NcclGroup> groups, LocalGroup.RankTask<T> task) {
        int n = groups.size();
        List<T> results = new ArrayList<>(Collections.nCopies(n, null));
        Throwable[] failures = new Throwable[n];
        Thread[] threads = new Thread[n];
        for (int i = 0; i < n; i++) {
            int r = i;
            threads[i] = Thread.ofPlatform().daemon().name("tpk-nccl-rank-" + r).start(() -> {
                try {
                    results.set(r, task.run(groups.get(r)));
                } catch (Throwable t) {
                    failures[r] = t;
                }
            });
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CollectiveException("interrupted waiting for the rank threads");
            }
        }
        Throwable first = null;
        for (Throwable f : failures) {
            if (first == null) {
                first = f;
            } else if (f != null) {
                first.addSuppressed(f);
            }
        }
        if (first instanceof RuntimeException re) {
            throw re;
        }
        if (first instanceof Error err) {
            throw err;
        }
        if (first != null) {
            throw new CollectiveException("a rank failed: " + first, first);
        }
        return results;
    }

    /**
     * One process per GPU: rank, world size and local rank from the launcher's variables
     * ({@link Rendezvous.Config#fromEnvironment}: the {@code TPK_} names, torchrun, mpirun or srun), the unique id
     * from rank 0 through the {@link Rendezvous}; the device is the local rank modulo the visible devices
     * ({@link Rendezvous.Config#device}).
     *
     * @param timeout how long the rendezvous, blocking NCCL calls and stream waits may take, positive
     * @return this process's group, which the caller closes
     * @throws IllegalArgumentException when the launcher's variables are missing, malformed or out of range
     * @throws IllegalStateException when the CUDA driver is not available
     * @throws CollectiveException when the rendezvous or the communicator's set-up does not finish within the timeout
     */
    public static NcclGroup fromEnvironment(Duration timeout) {
        Rendezvous.Config config = Rendezvous.Config.fromEnvironment(System.getenv());
        // With no device visible, ordinal 0: opening it says why (no driver, or no device).
        int ordinal = config.device(Math.max(1, CudaDevice.count()));
        byte[] id = Rendezvous.exchange(config, Nccl::uniqueId, timeout);
        return initRank(CudaDevice.of(ordinal), config.rank(), config.worldSize(), id, timeout);
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    /**
     * The group's own stream, on which the argument checks exchange their headers when
     * {@link io.tpkernels.runtime.Tuning#collectiveChecks()} is on; the collectives themselves run on the caller's
     * context's stream.
     *
     * @return the stream, owned by the group
     */
    public CudaStream stream() {
        return stream;
    }

    // ---- waiting, checking, aborting

    private void usable() {
        if (broken != null) {
            throw new CollectiveException(broken);
        }
        if (comm == null) {
            throw new IllegalStateException("rank " + rank + " used its NCCL group after closing it");
        }
    }

    /** Makes NCCL host calls on this rank's helper thread, giving up (and aborting) past the timeout. */
    private void enqueue(String what, Runnable ncclCalls) {
        calls.call(what, () -> {
            ncclCalls.run();
            return null;
        }, () -> abort("rank " + rank + ": " + what + " did not return within " + Duration.ofNanos(timeoutNanos)
                .toMillis() + " ms; the communicator was aborted"), null);
    }

    /** With collective checks on, waits for the work this collective queued on {@code ctx}. */
    private void finish(ExecutionContext ctx, String op) {
        if (ctx.tuning().collectiveChecks()) {
            await(ctx.stream(), op);
        }
    }

    private void requireContext(ExecutionContext ctx, String op, Tensor t) {
        if (!ctx.isCuda() || ctx.cudaDevice() != device) {
            throw new IllegalArgumentException(op + ": rank " + rank + "'s NCCL group is on " + device
                    + ", the context on " + ctx.device());
        }
        if (t != null) {
            ctx.requireOn(op, t);
        }
    }

    /** Waits for {@code on}, polling NCCL's asynchronous error; aborts the communicator past the timeout. */
    private void await(CudaStream on, String op) {
        long deadline = System.nanoTime() + timeoutNanos;
        device.makeCurrent();
        while (!CudaDriver.streamQuery(on.handle())) {
            int error = Nccl.commAsyncError(comm);
            if (error != 0 && error != NcclApi.ncclInProgress) {
                fail("rank " + rank + ": " + op + " failed in NCCL: " + Nccl.resultName(error) + " "
                        + Nccl.errorString(error));
            }
            if (System.nanoTime() > deadline) {
                fail("rank " + rank + ": " + op + " did not complete within " + Duration.ofNanos(timeoutNanos).toMillis()
                        + " ms (a peer failed or never arrived); the communicator was aborted");
            }
            LockSupport.parkNanos(20_000);
        }
    }

    private void fail(String message) {
        abort(message);
        throw new CollectiveException(message);
    }

    /**
     * Marks the group broken and aborts the communicator: on a daemon thread, waited for at most
     * {@link #ABORT_WAIT}, since an abort that hangs must not hang the caller either.
     */
    private void abort(String message) {
        broken = message;
        MemorySegment c = comm;
        comm = null;
        if (c == null) {
            return;
        }
        Thread aborter = Thread.ofPlatform().daemon().name("tpk-nccl-abort-rank-" + rank).start(() -> {
            try {
                device.makeCurrent();
                Nccl.commAbort(c);
            } catch (RuntimeException e) {
                // the group is broken either way; its message says why
            }
        });
        try {
            aborter.join(ABORT_WAIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int ncclType(DType d) {
        return switch (d) {
            case F32 -> NcclApi.ncclFloat32;
            case F16 -> NcclApi.ncclFloat16;
            case BF16 -> NcclApi.ncclBfloat16;
            case I32 -> NcclApi.ncclInt32;
            case I64 -> NcclApi.ncclInt64;
        };
    }

    private static int ncclOp(ReduceOp op) {
        return op == ReduceOp.SUM ? NcclApi.ncclSum : NcclApi.ncclMax;
    }

    // ---- headers: what each rank passed, exchanged before the data

    private void writeHeader(long[] mine) {
        var h = headerHost.hostSegment();
        for (int i = 0; i < HEADER; i++) {
            DType.I64.setLong(h, i, mine[i]);
        }
        header.copyFromAsync(headerHost, stream);
    }

    private long[][] readHeaders(int count) {
        long[][] all = new long[count][HEADER];
        try (Tensor back = headers.copyTo(Device.CPU)) {
            for (int r = 0; r < count; r++) {
                for (int i = 0; i < HEADER; i++) {
                    all[r][i] = DType.I64.getLong(back.hostSegment(), (long) r * HEADER + i);
                }
            }
        }
        return all;
    }

    /** All-gathers every rank's header and runs the agreement on them: the same error on every rank, or none. */
    private Agreement.Call[] exchangeHeaders(String op, Tensor t, int root, int dim, int dim2, ReduceOp reduce) {
        usable();
        writeHeader(NcclHeader.encode(op, t, device.device(), root, dim, dim2, reduce));
        enqueue(op + " (header exchange)", () -> Nccl.allGather(header.devicePointer(), headers.devicePointer(),
                HEADER, NcclApi.ncclInt64, comm, stream.handle()));
        await(stream, op + " (header exchange)");
        long[][] all = readHeaders(size);
        Agreement.Call[] decoded = new Agreement.Call[size];
        for (int r = 0; r < size; r++) {
            String problem = NcclHeader.unusable(all[r], r);
            if (problem != null) {
                throw new CollectiveException(problem);
            }
            decoded[r] = NcclHeader.decode(all[r]);
        }
        String problem = Agreement.problem(decoded);
        if (problem != null) {
            throw new CollectiveException(problem);
        }
        return decoded;
    }

    /**
     * Swaps headers with {@code peer} (a send's or recv's other end), then checks the pair on both ends: a
     * mismatched shape or dtype, or a peer doing something else, is the same error on both ranks.
     */
    private void exchangeWithPeer(String op, Tensor t, int peer) {
        if (peer < 0 || peer >= size || peer == rank) {
            throw new IllegalArgumentException("rank " + rank + " cannot " + op + " with rank " + peer
                    + " in a group of " + size);
        }
        usable();
        writeHeader(NcclHeader.encode(op, t, device.device(), peer, NO_DIM, NO_DIM, null));
        enqueue(op + " (header exchange with rank " + peer + ")", () -> {
            Nccl.groupStart();
            Nccl.send(header.devicePointer(), HEADER, NcclApi.ncclInt64, peer, comm, stream.handle());
            Nccl.recv(headers.devicePointer(), HEADER, NcclApi.ncclInt64, peer, comm, stream.handle());
            Nccl.groupEnd();
        });
        await(stream, op + " (header exchange with rank " + peer + ")");
        long[] mine = NcclHeader.encode(op, t, device.device(), peer, NO_DIM, NO_DIM, null);
        long[] theirs = readHeaders(1)[0];
        String problem = NcclHeader.unusable(mine, rank);
        if (problem == null) {
            problem = NcclHeader.unusable(theirs, peer);
        }
        if (problem == null) {
            Agreement.Call me = NcclHeader.decode(mine);
            Agreement.Call them = NcclHeader.decode(theirs);
            problem = op.equals("send") ? Agreement.pairProblem(me, rank, them, peer)
                    : Agreement.pairProblem(them, peer, me, rank);
        }
        if (problem != null) {
            throw new CollectiveException(problem);
        }
    }

    // ---- collectives

    /**
     * The checks before a collective: the context is this rank's device, and with collective checks on, every rank
     * passed alike (the header exchange).
     */
    private void check(ExecutionContext ctx, String op, Tensor t, int root, int dim, int dim2, ReduceOp reduce) {
        requireContext(ctx, op, t);
        usable();
        if (ctx.tuning().collectiveChecks()) {
            exchangeHeaders(op, t, root, dim, dim2, reduce);
        } else if (t != null) {
            String problem = Agreement.Call.of(op, t, root, dim, dim2, reduce).localProblem(size);
            if (problem != null) {
                throw new CollectiveException("rank " + rank + ": " + problem);
            }
        }
    }

    private void checkPeer(String op, int peer) {
        if (peer < 0 || peer >= size || peer == rank) {
            throw new IllegalArgumentException("rank " + rank + " cannot " + op + " with rank " + peer
                    + " in a group of " + size);
        }
        usable();
    }


    @Override
    public void allReduce(ExecutionContext ctx, Tensor tensor, ReduceOp op) {
        check(ctx, "allReduce", tensor, -1, NO_DIM, NO_DIM, op);
        enqueue("ncclAllReduce", () -> Nccl.allReduce(tensor.devicePointer(), tensor.devicePointer(), tensor.numel(),
                ncclType(tensor.dtype()), ncclOp(op), comm, ctx.stream().handle()));
        finish(ctx, "allReduce");
    }

    @Override
    public Tensor allGather(ExecutionContext ctx, Tensor tensor, int dim) {
        check(ctx, "allGather", tensor, -1, dim, NO_DIM, null);
        int d = Agreement.normalize(dim, tensor.rank());
        long len = tensor.dim(d);
        Tensor out = Tensor.allocate(ctx, tensor.dtype(), Slabs.withDim(tensor, d, len * size));
        try {
            if (d == 0) {
                enqueue("ncclAllGather", () -> Nccl.allGather(tensor.devicePointer(), out.devicePointer(),
                        tensor.numel(), ncclType(tensor.dtype()), comm, ctx.stream().handle()));
                finish(ctx, "allGather");
                return out;
            }
            // NCCL gathers along a new leading dimension; move each rank's block to its place along dim.
            try (Tensor gathered = Tensor.allocate(ctx, tensor.dtype(), prepend(size, tensor.shape()))) {
                enqueue("ncclAllGather", () -> Nccl.allGather(tensor.devicePointer(), gathered.devicePointer(),
                        tensor.numel(), ncclType(tensor.dtype()), comm, ctx.stream().handle()));
                for (int r = 0; r < size; r++) {
                    Slabs.copy(ctx, gathered.rows(r, r + 1).reshape(tensor.shape()), d, 0, out, r * len, len);
                }
                finish(ctx, "allGather");
            }
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    @Override
    public Tensor reduceScatter(ExecutionContext ctx, Tensor tensor, int dim, ReduceOp op) {
        check(ctx, "reduceScatter", tensor, -1, dim, NO_DIM, op);
        int d = Agreement.normalize(dim, tensor.rank());
        long len = tensor.dim(d) / size;
        long[] slab = Slabs.withDim(tensor, d, len);
        Tensor out = Tensor.allocate(ctx, tensor.dtype(), slab);
        try {
            if (d == 0) {
                enqueue("ncclReduceScatter", () -> Nccl.reduceScatter(tensor.devicePointer(), out.devicePointer(),
                        out.numel(), ncclType(tensor.dtype()), ncclOp(op), comm, ctx.stream().handle()));
                finish(ctx, "reduceScatter");
            } else {
                try (Tensor stacked = Tensor.allocate(ctx, tensor.dtype(), prepend(size, slab))) {
                    for (int r = 0; r < size; r++) {
                        Slabs.copy(ctx, tensor, d, r * len, stacked.rows(r, r + 1).reshape(slab), 0, len);
                    }
                    enqueue("ncclReduceScatter", () -> Nccl.reduceScatter(stacked.devicePointer(), out.devicePointer(),
                            out.numel(), ncclType(tensor.dtype()), ncclOp(op), comm, ctx.stream().handle()));
                    finish(ctx, "reduceScatter");
                }
            }
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    @Override
    public Tensor allToAll(ExecutionContext ctx, Tensor tensor, int splitDim, int concatDim) {
        check(ctx, "allToAll", tensor, -1, splitDim, concatDim, null);
        int s = Agreement.normalize(splitDim, tensor.rank());
        int c = Agreement.normalize(concatDim, tensor.rank());
        long len = tensor.dim(s) / size;
        long[] slab = Slabs.withDim(tensor, s, len);
        Tensor out = Tensor.allocate(ctx, tensor.dtype(), AllToAllShape.of(slab, c, size));
        try (Tensor send = Tensor.allocate(ctx, tensor.dtype(), prepend(size, slab));
             Tensor recv = Tensor.allocate(ctx, tensor.dtype(), prepend(size, slab))) {
            long count = 1;
            for (long x : slab) {
                count *= x;
            }
            long elements = count;
            long bytes = count * tensor.dtype().byteSize();
            for (int r = 0; r < size; r++) {
                Slabs.copy(ctx, tensor, s, r * len, send.rows(r, r + 1).reshape(slab), 0, len);
            }
            enqueue("allToAll's ncclSend/ncclRecv group", () -> {
                Nccl.groupStart();
                for (int r = 0; r < size; r++) {
                    Nccl.send(send.devicePointer() + r * bytes, elements, ncclType(tensor.dtype()), r, comm,
                            ctx.stream().handle());
                    Nccl.recv(recv.devicePointer() + r * bytes, elements, ncclType(tensor.dtype()), r, comm,
                            ctx.stream().handle());
                }
                Nccl.groupEnd();
            });
            for (int r = 0; r < size; r++) {
                Slabs.copy(ctx, recv.rows(r, r + 1).reshape(slab), c, 0, out, r * slab[c], slab[c]);
            }
            finish(ctx, "allToAll");
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    @Override
    public void broadcast(ExecutionContext ctx, Tensor tensor, int root) {
        check(ctx, "broadcast", tensor, root, NO_DIM, NO_DIM, null);
        enqueue("ncclBroadcast", () -> Nccl.broadcast(tensor.devicePointer(), tensor.devicePointer(), tensor.numel(),
                ncclType(tensor.dtype()), root, comm, ctx.stream().handle()));
        finish(ctx, "broadcast");
    }

    /**
     * {@inheritDoc}
     *
     * <p>The root copies nothing of its own slab when {@code dim} is 0 (a view), and copies it exactly once
     * otherwise (into the result, as the in-process group does). Along {@code dim != 0} the other ranks' slabs are
     * strided in the full tensor and NCCL sends contiguous buffers, so the root stages those {@code size − 1}
     * slabs, never its own and never the full tensor.
     */
    @Override
    public Tensor scatterFromRank(ExecutionContext ctx, Tensor fullOnRoot, int root, int dim) {
        requireContext(ctx, "scatterFromRank", rank == root ? fullOnRoot : null);
        Agreement.Call[] all = exchangeHeaders("scatterFromRank", rank == root ? fullOnRoot : null, root, dim, NO_DIM,
                null);
        long[] full = all[root].shape();
        DType dtype = all[root].dtype();
        int d = Agreement.normalize(dim, full.length);
        long len = full[d] / size;
        long[] slab = full.clone();
        slab[d] = len;
        if (rank == root && d == 0) {
            // The root's slab is a view; the others are sent from the full tensor's contiguous rows.
            long bytes = fullOnRoot.rows(0, len).byteSize();
            enqueue("scatterFromRank's ncclSend group", () -> {
                Nccl.groupStart();
                for (int r = 0; r < size; r++) {
                    if (r != root) {
                        Nccl.send(fullOnRoot.devicePointer() + r * bytes, bytes / dtype.byteSize(), ncclType(dtype), r,
                                comm, ctx.stream().handle());
                    }
                }
                Nccl.groupEnd();
            });
            finish(ctx, "scatterFromRank");
            return fullOnRoot.rows(rank * len, (rank + 1) * len);
        }
        Tensor out = Tensor.allocate(ctx, dtype, slab);
        try {
            if (rank == root) {
                sendSlabsToOthers(ctx, fullOnRoot, d, len, slab, out);
            } else {
                enqueue("scatterFromRank's ncclRecv", () -> Nccl.recv(out.devicePointer(), out.numel(), ncclType(dtype),
                        root, comm, ctx.stream().handle()));
                finish(ctx, "scatterFromRank");
            }
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /** The root along {@code d != 0}: its own slab straight into {@code mine}, the others' staged and sent. */
    private void sendSlabsToOthers(ExecutionContext ctx, Tensor full, int d, long len, long[] slab, Tensor mine) {
        Slabs.copy(ctx, full, d, rank * len, mine, 0, len);
        if (size == 1) {
            finish(ctx, "scatterFromRank");
            return;
        }
        DType dtype = full.dtype();
        try (Tensor staged = Tensor.allocate(ctx, dtype, prepend(size - 1, slab))) {
            long count = mine.numel();
            for (int r = 0, row = 0; r < size; r++) {
                if (r != rank) {
                    Slabs.copy(ctx, full, d, r * len, staged.rows(row, row + 1).reshape(slab), 0, len);
                    row++;
                }
            }
            enqueue("scatterFromRank's ncclSend group", () -> {
                Nccl.groupStart();
                for (int r = 0, row = 0; r < size; r++) {
                    if (r != rank) {
                        Nccl.send(staged.rows(row, row + 1).devicePointer(), count, ncclType(dtype), r, comm,
                                ctx.stream().handle());
                        row++;
                    }
                }
                Nccl.groupEnd();
            });
            finish(ctx, "scatterFromRank");
        }
    }

    @Override
    public void send(ExecutionContext ctx, Tensor tensor, int dst) {
        requireContext(ctx, "send", tensor);
        ctx.readDeferredChecks(); // what is sent leaves this context: a device check on its inputs is read first
        if (ctx.tuning().collectiveChecks()) {
            exchangeWithPeer("send", tensor, dst);
        } else {
            checkPeer("send", dst);
        }
        enqueue("ncclSend to rank " + dst, () -> Nccl.send(tensor.devicePointer(), tensor.numel(),
                ncclType(tensor.dtype()), dst, comm, ctx.stream().handle()));
        finish(ctx, "send");
    }

    @Override
    public void recv(ExecutionContext ctx, Tensor into, int src) {
        requireContext(ctx, "recv", into);
        if (ctx.tuning().collectiveChecks()) {
            exchangeWithPeer("recv", into, src);
        } else {
            checkPeer("recv", src);
        }
        enqueue("ncclRecv from rank " + src, () -> Nccl.recv(into.devicePointer(), into.numel(),
                ncclType(into.dtype()), src, comm, ctx.stream().handle()));
        finish(ctx, "recv");
    }

    @Override
    public void barrier() {
        exchangeHeaders("barrier", null, -1, NO_DIM, NO_DIM, null);
    }

    /** Destroys the communicator (bounded by the timeout; aborted if it hangs) and frees the group's buffers. */
    @Override
    public void close() {
        MemorySegment c = comm;
        comm = null;
        try {
            if (c != null && broken == null) {
                calls.call("ncclCommDestroy", () -> {
                    Nccl.commDestroy(c);
                    return null;
                }, () -> {
                    comm = c;
                    abort("rank " + rank + ": ncclCommDestroy hung; the communicator was aborted");
                }, null);
            }
        } finally {
            calls.close();
            headers.close();
            header.close();
            headerHost.close();
            stream.close();
        }
    }

    private static long[] prepend(long first, long[] shape) {
        long[] out = new long[shape.length + 1];
        out[0] = first;
        System.arraycopy(shape, 0, out, 1, shape.length);
        return out;
    }
}
