package io.tpkernels.collective;

import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.ffm.nccl.Nccl;
import io.tpkernels.ffm.nccl.NcclApi;
import io.tpkernels.gpu.CudaDevice;
import io.tpkernels.gpu.CudaStream;
import io.tpkernels.ops.Slabs;
import io.tpkernels.tensor.DType;
import io.tpkernels.tensor.Device;
import io.tpkernels.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * A {@link ProcessGroup} over NCCL: one rank per GPU, in one process ({@link #initAll}) or one process per GPU
 * across hosts ({@link #fromEnvironment}, with the {@link Rendezvous}). Tensors live on this rank's device.
 *
 * <p>Before each collective the ranks all-gather a small header (operation, dtype, shape, arguments), so a
 * mismatch is an error on every rank naming the rank and both shapes, and non-root ranks learn the shape of a
 * scatter. Waiting polls the stream and the communicator's asynchronous error; past the timeout the
 * communicator is aborted and every call throws, instead of hanging.
 */
public final class NcclGroup implements ProcessGroup {
    private static final int HEADER = 16;
    private static final int MAX_DIMS = 8;

    private final CudaDevice device;
    private final int rank;
    private final int size;
    private final long timeoutNanos;
    private final CudaStream stream;
    private final Tensor headerHost;
    private final Tensor header;
    private final Tensor headers;
    private MemorySegment comm;
    private String broken;

    private NcclGroup(CudaDevice device, MemorySegment comm, int rank, int size, Duration timeout) {
        this.device = device;
        this.comm = comm;
        this.rank = rank;
        this.size = size;
        this.timeoutNanos = timeout.toNanos();
        this.stream = CudaStream.create(device);
        this.headerHost = Tensor.allocate(Device.CPU, DType.I64, HEADER);
        this.header = Tensor.allocate(device.device(), DType.I64, HEADER);
        this.headers = Tensor.allocate(device.device(), DType.I64, size, HEADER);
    }

    /** Whether NCCL was found. */
    public static boolean isAvailable() {
        return Nccl.isAvailable();
    }

    /** Rank {@code rank} of {@code size} on {@code device}, all ranks sharing {@code uniqueId}. */
    public static NcclGroup initRank(CudaDevice device, int rank, int size, byte[] uniqueId, Duration timeout) {
        device.makeCurrent();
        return new NcclGroup(device, Nccl.commInitRank(size, uniqueId, rank), rank, size, timeout);
    }

    /** One process driving every listed device: rank i on {@code devices.get(i)}. */
    public static List<NcclGroup> initAll(List<CudaDevice> devices, Duration timeout) {
        int[] ordinals = devices.stream().mapToInt(CudaDevice::ordinal).toArray();
        devices.get(0).makeCurrent();
        MemorySegment[] comms = Nccl.commInitAll(ordinals);
        List<NcclGroup> out = new ArrayList<>();
        for (int i = 0; i < comms.length; i++) {
            out.add(new NcclGroup(devices.get(i), comms[i], i, comms.length, timeout));
        }
        return out;
    }

    /**
     * One process per GPU: rank and world size from {@code TPK_RANK}/{@code RANK} and
     * {@code TPK_WORLD_SIZE}/{@code WORLD_SIZE}, the unique id from rank 0 through the {@link Rendezvous}; the
     * device is {@code TPK_LOCAL_RANK}/{@code LOCAL_RANK}, else the rank modulo the visible devices.
     */
    public static NcclGroup fromEnvironment(Duration timeout) {
        Map<String, String> env = System.getenv();
        Rendezvous.Config config = Rendezvous.Config.fromEnvironment(env);
        String local = env.getOrDefault("TPK_LOCAL_RANK", env.get("LOCAL_RANK"));
        int ordinal = local != null ? Integer.parseInt(local.strip()) : config.rank() % Math.max(1, CudaDevice.count());
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

    /** The stream this group's collectives run on. */
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

    /** Waits for the stream, polling NCCL's asynchronous error; aborts the communicator past the timeout. */
    private void await(String op) {
        long deadline = System.nanoTime() + timeoutNanos;
        device.makeCurrent();
        while (!CudaDriver.streamQuery(stream.handle())) {
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
        broken = message;
        MemorySegment c = comm;
        comm = null;
        if (c != null) {
            Nccl.commAbort(c);
        }
        throw new CollectiveException(message);
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

    /** All-gathers every rank's header and returns them; throws the same mismatch on every rank. */
    private long[][] exchangeHeaders(String op, Tensor t, int root, int dim, int dim2, ReduceOp reduce) {
        usable();
        if (t != null && t.rank() > MAX_DIMS) {
            throw new IllegalArgumentException(op + ": tensors of more than " + MAX_DIMS + " dimensions are not supported");
        }
        var h = headerHost.hostSegment();
        long[] mine = new long[HEADER];
        mine[0] = op.hashCode();
        mine[1] = t == null ? -1 : t.dtype().ordinal();
        mine[2] = t == null ? -1 : t.rank();
        for (int i = 0; t != null && i < t.rank(); i++) {
            mine[3 + i] = t.dim(i);
        }
        mine[11] = root;
        mine[12] = dim;
        mine[13] = dim2;
        mine[14] = reduce == null ? -1 : reduce.ordinal();
        for (int i = 0; i < HEADER; i++) {
            DType.I64.setLong(h, i, mine[i]);
        }
        header.copyFromAsync(headerHost, stream);
        Nccl.allGather(header.devicePointer(), headers.devicePointer(), HEADER, NcclApi.ncclInt64, comm, stream.handle());
        await(op + " (header)");
        long[][] all = new long[size][HEADER];
        try (Tensor back = headers.copyTo(Device.CPU)) {
            for (int r = 0; r < size; r++) {
                for (int i = 0; i < HEADER; i++) {
                    all[r][i] = DType.I64.getLong(back.hostSegment(), (long) r * HEADER + i);
                }
            }
        }
        for (int r = 1; r < size; r++) {
            if (all[r][0] != all[0][0] || !Arrays.equals(all[r], 11, HEADER, all[0], 11, HEADER)) {
                throw new CollectiveException(op + ": rank " + r + " called a different collective or passed different"
                        + " arguments than rank 0");
            }
            boolean shaped = !op.equals("scatterFromRank");
            if (shaped && !Arrays.equals(all[r], 1, 11, all[0], 1, 11)) {
                throw new CollectiveException(op + ": rank " + r + " has " + describe(all[r]) + " but rank 0 has "
                        + describe(all[0]));
            }
        }
        return all;
    }

    private static long[] shapeOf(long[] header) {
        return Arrays.copyOfRange(header, 3, 3 + (int) header[2]);
    }

    private static String describe(long[] header) {
        return header[2] < 0 ? "no tensor" : Arrays.toString(shapeOf(header)) + " " + DType.values()[(int) header[1]];
    }

    private void requireHere(Tensor t, String op) {
        if (!t.device().equals(device.device())) {
            throw new IllegalArgumentException(op + ": rank " + rank + " runs on " + device + " but the tensor "
                    + t.describe() + " is elsewhere");
        }
    }

    // ---- collectives

    @Override
    public void allReduce(Tensor tensor, ReduceOp op) {
        requireHere(tensor, "allReduce");
        exchangeHeaders("allReduce", tensor, -1, 0, 0, op);
        Nccl.allReduce(tensor.devicePointer(), tensor.devicePointer(), tensor.numel(), ncclType(tensor.dtype()),
                ncclOp(op), comm, stream.handle());
        await("allReduce");
    }

    @Override
    public Tensor allGather(Tensor tensor, int dim) {
        requireHere(tensor, "allGather");
        int d = Slabs.normalize(tensor, dim);
        exchangeHeaders("allGather", tensor, -1, d, 0, null);
        long len = tensor.dim(d);
        Tensor out = Tensor.allocate(tensor.device(), tensor.dtype(), Slabs.withDim(tensor, d, len * size));
        try {
            if (d == 0) {
                Nccl.allGather(tensor.devicePointer(), out.devicePointer(), tensor.numel(), ncclType(tensor.dtype()), comm,
                        stream.handle());
            } else {
                // NCCL gathers along a new leading dimension; move each rank's block to its place along dim.
                long[] stacked = prepend(size, tensor.shape());
                try (Tensor gathered = Tensor.allocate(tensor.device(), tensor.dtype(), stacked)) {
                    Nccl.allGather(tensor.devicePointer(), gathered.devicePointer(), tensor.numel(),
                            ncclType(tensor.dtype()), comm, stream.handle());
                    for (int r = 0; r < size; r++) {
                        Slabs.copy(gathered.rows(r, r + 1).reshape(tensor.shape()), d, 0, out, r * len, len, stream);
                    }
                    await("allGather"); // before `gathered` is freed
                }
                return out;
            }
            await("allGather");
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    @Override
    public Tensor reduceScatter(Tensor tensor, int dim, ReduceOp op) {
        requireHere(tensor, "reduceScatter");
        int d = Slabs.normalize(tensor, dim);
        long len = Slabs.slabLength(tensor, d, size, "reduceScatter");
        exchangeHeaders("reduceScatter", tensor, -1, d, 0, op);
        long[] slab = Slabs.withDim(tensor, d, len);
        Tensor out = Tensor.allocate(tensor.device(), tensor.dtype(), slab);
        try {
            if (d == 0) {
                Nccl.reduceScatter(tensor.devicePointer(), out.devicePointer(), out.numel(), ncclType(tensor.dtype()),
                        ncclOp(op), comm, stream.handle());
                await("reduceScatter");
            } else {
                try (Tensor stacked = Tensor.allocate(tensor.device(), tensor.dtype(), prepend(size, slab))) {
                    for (int r = 0; r < size; r++) {
                        Slabs.copy(tensor, d, r * len, stacked.rows(r, r + 1).reshape(slab), 0, len, stream);
                    }
                    Nccl.reduceScatter(stacked.devicePointer(), out.devicePointer(), out.numel(), ncclType(tensor.dtype()),
                            ncclOp(op), comm, stream.handle());
                    await("reduceScatter");
                }
            }
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    @Override
    public Tensor allToAll(Tensor tensor, int splitDim, int concatDim) {
        requireHere(tensor, "allToAll");
        int s = Slabs.normalize(tensor, splitDim);
        int c = Slabs.normalize(tensor, concatDim);
        long len = Slabs.slabLength(tensor, s, size, "allToAll");
        exchangeHeaders("allToAll", tensor, -1, s, c, null);
        long[] slab = Slabs.withDim(tensor, s, len);
        Tensor out = Tensor.allocate(tensor.device(), tensor.dtype(), AllToAllShape.of(slab, c, size));
        try (Tensor send = Tensor.allocate(tensor.device(), tensor.dtype(), prepend(size, slab));
             Tensor recv = Tensor.allocate(tensor.device(), tensor.dtype(), prepend(size, slab))) {
            long count = 1;
            for (long x : slab) {
                count *= x;
            }
            long bytes = count * tensor.dtype().byteSize();
            for (int r = 0; r < size; r++) {
                Slabs.copy(tensor, s, r * len, send.rows(r, r + 1).reshape(slab), 0, len, stream);
            }
            Nccl.groupStart();
            for (int r = 0; r < size; r++) {
                Nccl.send(send.devicePointer() + r * bytes, count, ncclType(tensor.dtype()), r, comm, stream.handle());
                Nccl.recv(recv.devicePointer() + r * bytes, count, ncclType(tensor.dtype()), r, comm, stream.handle());
            }
            Nccl.groupEnd();
            for (int r = 0; r < size; r++) {
                Slabs.copy(recv.rows(r, r + 1).reshape(slab), c, 0, out, r * slab[c], slab[c], stream);
            }
            await("allToAll");
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    @Override
    public void broadcast(Tensor tensor, int root) {
        requireHere(tensor, "broadcast");
        exchangeHeaders("broadcast", tensor, root, 0, 0, null);
        Nccl.broadcast(tensor.devicePointer(), tensor.devicePointer(), tensor.numel(), ncclType(tensor.dtype()), root,
                comm, stream.handle());
        await("broadcast");
    }

    @Override
    public Tensor scatterFromRank(Tensor fullOnRoot, int root, int dim) {
        if (rank == root) {
            if (fullOnRoot == null) {
                throw new IllegalArgumentException("scatterFromRank: the root (rank " + root + ") must pass the full tensor");
            }
            requireHere(fullOnRoot, "scatterFromRank");
        }
        long[][] all = exchangeHeaders("scatterFromRank", rank == root ? fullOnRoot : null, root, dim, 0, null);
        long[] full = shapeOf(all[root]);
        DType dtype = DType.values()[(int) all[root][1]];
        int d = dim < 0 ? full.length + dim : dim;
        if (full[d] % size != 0) {
            throw new IllegalArgumentException("scatterFromRank: dimension " + d + " of " + Arrays.toString(full)
                    + " is not divisible by " + size + " ranks");
        }
        long len = full[d] / size;
        long[] slab = full.clone();
        slab[d] = len;
        if (rank == root && d == 0) {
            // The root's slab is a view; the others are sent from the full tensor's contiguous rows.
            long bytes = fullOnRoot.rows(0, len).byteSize();
            Nccl.groupStart();
            for (int r = 0; r < size; r++) {
                if (r != root) {
                    Nccl.send(fullOnRoot.devicePointer() + r * bytes, bytes / dtype.byteSize(), ncclType(dtype), r, comm,
                            stream.handle());
                }
            }
            Nccl.groupEnd();
            await("scatterFromRank");
            return fullOnRoot.rows(rank * len, (rank + 1) * len);
        }
        Tensor out = Tensor.allocate(device.device(), dtype, slab);
        try {
            if (rank == root) {
                try (Tensor staged = Tensor.allocate(device.device(), dtype, prepend(size, slab))) {
                    for (int r = 0; r < size; r++) {
                        Slabs.copy(fullOnRoot, d, r * len, staged.rows(r, r + 1).reshape(slab), 0, len, stream);
                    }
                    Nccl.groupStart();
                    for (int r = 0; r < size; r++) {
                        if (r != root) {
                            Nccl.send(staged.rows(r, r + 1).devicePointer(), out.numel(), ncclType(dtype), r, comm,
                                    stream.handle());
                        }
                    }
                    Nccl.groupEnd();
                    Slabs.copy(staged.rows(root, root + 1).reshape(slab), 0, 0, out, 0, slab[0], stream);
                    await("scatterFromRank");
                }
            } else {
                Nccl.recv(out.devicePointer(), out.numel(), ncclType(dtype), root, comm, stream.handle());
                await("scatterFromRank");
            }
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    @Override
    public void send(Tensor tensor, int dst) {
        requireHere(tensor, "send");
        usable();
        Nccl.send(tensor.devicePointer(), tensor.numel(), ncclType(tensor.dtype()), dst, comm, stream.handle());
        await("send");
    }

    @Override
    public void recv(Tensor into, int src) {
        requireHere(into, "recv");
        usable();
        Nccl.recv(into.devicePointer(), into.numel(), ncclType(into.dtype()), src, comm, stream.handle());
        await("recv");
    }

    @Override
    public void barrier() {
        exchangeHeaders("barrier", null, -1, 0, 0, null);
    }

    @Override
    public void close() {
        MemorySegment c = comm;
        comm = null;
        if (c != null) {
            device.makeCurrent();
            Nccl.commDestroy(c);
        }
        headers.close();
        header.close();
        headerHost.close();
        stream.close();
    }

    private static long[] prepend(long first, long[] shape) {
        long[] out = new long[shape.length + 1];
        out[0] = first;
        System.arraycopy(shape, 0, out, 1, shape.length);
        return out;
    }
}
