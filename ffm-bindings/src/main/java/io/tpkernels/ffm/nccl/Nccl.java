package io.tpkernels.ffm.nccl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.tpkernels.ffm.CConstant;
import io.tpkernels.ffm.LibraryName;
import io.tpkernels.ffm.NativeLibrary;
import io.tpkernels.ffm.OutParams;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * NCCL ({@code libnccl.so.2}) through FFM, found like the driver. Every non-zero result becomes an
 * {@link NcclException}; communicators are {@link MemorySegment} handles, device buffers {@code long}s.
 */
public final class Nccl {
    private Nccl() {
    }

    private static final NativeLibrary LIB = NativeLibrary.load(LibraryName.NCCL);

    private static final MethodHandle ncclGetVersion = LIB.downcall(NcclApi.ncclGetVersion);
    private static final MethodHandle ncclGetUniqueId = LIB.downcall(NcclApi.ncclGetUniqueId);
    private static final MethodHandle ncclCommInitRank = LIB.downcall(NcclApi.ncclCommInitRank);
    private static final MethodHandle ncclCommInitAll = LIB.downcall(NcclApi.ncclCommInitAll);
    private static final MethodHandle ncclCommDestroy = LIB.downcall(NcclApi.ncclCommDestroy);
    private static final MethodHandle ncclCommAbort = LIB.downcall(NcclApi.ncclCommAbort);
    private static final MethodHandle ncclCommGetAsyncError = LIB.downcall(NcclApi.ncclCommGetAsyncError);
    private static final MethodHandle ncclGetErrorString = LIB.downcall(NcclApi.ncclGetErrorString);
    private static final MethodHandle ncclAllReduce = LIB.downcall(NcclApi.ncclAllReduce);
    private static final MethodHandle ncclAllGather = LIB.downcall(NcclApi.ncclAllGather);
    private static final MethodHandle ncclReduceScatter = LIB.downcall(NcclApi.ncclReduceScatter);
    private static final MethodHandle ncclBroadcast = LIB.downcall(NcclApi.ncclBroadcast);
    private static final MethodHandle ncclSend = LIB.downcall(NcclApi.ncclSend);
    private static final MethodHandle ncclRecv = LIB.downcall(NcclApi.ncclRecv);
    private static final MethodHandle ncclGroupStart = LIB.downcall(NcclApi.ncclGroupStart);
    private static final MethodHandle ncclGroupEnd = LIB.downcall(NcclApi.ncclGroupEnd);

    /**
     * The library as loaded (or why not).
     *
     * @return the library, loaded or not
     */
    public static NativeLibrary library() {
        return LIB;
    }

    /**
     * Whether NCCL was loaded.
     *
     * @return {@code true} when NCCL can be used
     */
    public static boolean isAvailable() {
        return LIB.isLoaded();
    }

    /**
     * The symbolic name of a result.
     *
     * @param result an {@code ncclResult_t}
     * @return its name, or {@code ncclResult_<n>} for one the table does not know
     */
    public static String resultName(int result) {
        for (CConstant c : NcclApi.RESULTS) {
            if (c.value() == result) {
                return c.name();
            }
        }
        return "ncclResult_" + result;
    }

    /**
     * NCCL's description of a result, or an empty string.
     *
     * @param result an {@code ncclResult_t}
     * @return the description
     */
    public static String errorString(int result) {
        if (!LIB.isLoaded()) {
            return "";
        }
        try {
            MemorySegment s = (MemorySegment) ncclGetErrorString.invokeExact(result);
            return s.equals(MemorySegment.NULL) ? "" : s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "";
        }
    }

    private static void check(int result, String call) {
        if (result != 0) {
            throw new NcclException(result, call);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        return OutParams.rethrow(t);
    }

    /**
     * {@code ncclGetVersion}: e.g. 22703 for 2.27.3.
     *
     * @return the version, {@code 10000·major + 100·minor + patch}
     * @throws NcclException when NCCL returns an error result
     */
    public static int version() {
        MemorySegment out = OutParams.get();
        try {
            check((int) ncclGetVersion.invokeExact(out), "ncclGetVersion()");
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return out.get(JAVA_INT, 0);
    }

    /**
     * {@code ncclGetUniqueId}: the 128 bytes rank 0 shares with the others.
     *
     * @return the id
     * @throws NcclException when NCCL returns an error result
     */
    public static byte[] uniqueId() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment id = arena.allocate(NcclApi.UNIQUE_ID_BYTES, 8);
            check((int) ncclGetUniqueId.invokeExact(id), "ncclGetUniqueId()");
            return id.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code ncclCommInitRank} (the id passed by value) in the calling thread's current CUDA context.
     *
     * @param nranks the number of ranks
     * @param uniqueId the id rank 0 made, {@link NcclApi#UNIQUE_ID_BYTES} bytes
     * @param rank this rank, in {@code [0, nranks)}
     * @return the {@code ncclComm_t}
     * @throws IllegalArgumentException when the id has the wrong length
     * @throws NcclException when NCCL returns an error result
     */
    public static MemorySegment commInitRank(int nranks, byte[] uniqueId, int rank) {
        if (uniqueId.length != NcclApi.UNIQUE_ID_BYTES) {
            throw new IllegalArgumentException("an ncclUniqueId is " + NcclApi.UNIQUE_ID_BYTES + " bytes, got "
                    + uniqueId.length);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment comm = arena.allocate(ADDRESS);
            MemorySegment id = arena.allocate(NcclApi.UNIQUE_ID_BYTES, 8);
            id.copyFrom(MemorySegment.ofArray(uniqueId));
            check((int) ncclCommInitRank.invokeExact(comm, nranks, id, rank),
                    "ncclCommInitRank(nranks=" + nranks + ", rank=" + rank + ")");
            return comm.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code ncclCommInitAll}: one communicator per listed device, for one process driving them all.
     *
     * @param devices the CUDA ordinals, one per rank in rank order
     * @return the communicators, in rank order
     * @throws NcclException when NCCL returns an error result
     */
    public static MemorySegment[] commInitAll(int[] devices) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment comms = arena.allocate(ADDRESS, devices.length);
            check((int) ncclCommInitAll.invokeExact(comms, devices.length, arena.allocateFrom(JAVA_INT, devices)),
                    "ncclCommInitAll(ndev=" + devices.length + ")");
            MemorySegment[] out = new MemorySegment[devices.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = comms.getAtIndex(ADDRESS, i);
            }
            return out;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code ncclCommDestroy}.
     *
     * @param comm the communicator
     * @throws NcclException when NCCL returns an error result
     */
    public static void commDestroy(MemorySegment comm) {
        try {
            check((int) ncclCommDestroy.invokeExact(comm), "ncclCommDestroy()");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code ncclCommAbort}: frees the communicator, cancelling its pending work.
     *
     * @param comm the communicator
     * @throws NcclException when NCCL returns an error result
     */
    public static void commAbort(MemorySegment comm) {
        try {
            check((int) ncclCommAbort.invokeExact(comm), "ncclCommAbort()");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code ncclCommGetAsyncError}: 0 while healthy, {@code ncclInProgress} while initializing.
     *
     * @param comm the communicator
     * @return the communicator's asynchronous {@code ncclResult_t}
     * @throws NcclException when NCCL returns an error result
     */
    public static int commAsyncError(MemorySegment comm) {
        MemorySegment out = OutParams.get();
        try {
            check((int) ncclCommGetAsyncError.invokeExact(comm, out), "ncclCommGetAsyncError()");
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return out.get(JAVA_INT, 0);
    }

    private static MemorySegment ptr(long p) {
        return MemorySegment.ofAddress(p);
    }

    /**
     * {@code ncclAllReduce}.
     *
     * @param send the device address of the input
     * @param recv the device address of the output (may be {@code send})
     * @param count elements per rank
     * @param dtype an {@code ncclDataType_t}
     * @param op an {@code ncclRedOp_t}
     * @param comm the communicator
     * @param stream the {@code CUstream} to queue on
     * @throws NcclException when NCCL returns an error result
     */
    public static void allReduce(long send, long recv, long count, int dtype, int op, MemorySegment comm,
                                 MemorySegment stream) {
        try {
            check((int) ncclAllReduce.invokeExact(ptr(send), ptr(recv), count, dtype, op, comm, stream),
                    "ncclAllReduce(count=" + count + ", dtype=" + dtype + ", op=" + op + ")");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code ncclAllGather}: {@code sendCount} elements from each rank.
     *
     * @param send the device address of this rank's part
     * @param recv the device address of the output, {@code size·sendCount} elements
     * @param sendCount the elements of each rank's part
     * @param dtype an {@code ncclDataType_t}
     * @param comm the communicator
     * @param stream the {@code CUstream} to queue on
     * @throws NcclException when NCCL returns an error result
     */
    public static void allGather(long send, long recv, long sendCount, int dtype, MemorySegment comm, MemorySegment stream) {
        try {
            check((int) ncclAllGather.invokeExact(ptr(send), ptr(recv), sendCount, dtype, comm, stream),
                    "ncclAllGather(sendcount=" + sendCount + ", dtype=" + dtype + ")");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code ncclReduceScatter}: {@code recvCount} elements to each rank.
     *
     * @param send the device address of the input, {@code size·recvCount} elements
     * @param recv the device address of this rank's part
     * @param recvCount the elements of each rank's part
     * @param dtype an {@code ncclDataType_t}
     * @param op an {@code ncclRedOp_t}
     * @param comm the communicator
     * @param stream the {@code CUstream} to queue on
     * @throws NcclException when NCCL returns an error result
     */
    public static void reduceScatter(long send, long recv, long recvCount, int dtype, int op, MemorySegment comm,
                                     MemorySegment stream) {
        try {
            check((int) ncclReduceScatter.invokeExact(ptr(send), ptr(recv), recvCount, dtype, op, comm, stream),
                    "ncclReduceScatter(recvcount=" + recvCount + ", dtype=" + dtype + ", op=" + op + ")");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code ncclBroadcast}.
     *
     * @param send the device address of the root's data (read on the root only)
     * @param recv the device address to write on every rank
     * @param count the elements
     * @param dtype an {@code ncclDataType_t}
     * @param root the sending rank
     * @param comm the communicator
     * @param stream the {@code CUstream} to queue on
     * @throws NcclException when NCCL returns an error result
     */
    public static void broadcast(long send, long recv, long count, int dtype, int root, MemorySegment comm,
                                 MemorySegment stream) {
        try {
            check((int) ncclBroadcast.invokeExact(ptr(send), ptr(recv), count, dtype, root, comm, stream),
                    "ncclBroadcast(count=" + count + ", root=" + root + ")");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code ncclSend}.
     *
     * @param buf the device address of the data
     * @param count the elements
     * @param dtype an {@code ncclDataType_t}
     * @param peer the receiving rank
     * @param comm the communicator
     * @param stream the {@code CUstream} to queue on
     * @throws NcclException when NCCL returns an error result
     */
    public static void send(long buf, long count, int dtype, int peer, MemorySegment comm, MemorySegment stream) {
        try {
            check((int) ncclSend.invokeExact(ptr(buf), count, dtype, peer, comm, stream),
                    "ncclSend(count=" + count + ", peer=" + peer + ")");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code ncclRecv}.
     *
     * @param buf the device address to write
     * @param count the elements
     * @param dtype an {@code ncclDataType_t}
     * @param peer the sending rank
     * @param comm the communicator
     * @param stream the {@code CUstream} to queue on
     * @throws NcclException when NCCL returns an error result
     */
    public static void recv(long buf, long count, int dtype, int peer, MemorySegment comm, MemorySegment stream) {
        try {
            check((int) ncclRecv.invokeExact(ptr(buf), count, dtype, peer, comm, stream),
                    "ncclRecv(count=" + count + ", peer=" + peer + ")");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code ncclGroupStart}. */
    public static void groupStart() {
        try {
            check((int) ncclGroupStart.invokeExact(), "ncclGroupStart()");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code ncclGroupEnd}. */
    public static void groupEnd() {
        try {
            check((int) ncclGroupEnd.invokeExact(), "ncclGroupEnd()");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
