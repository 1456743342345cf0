package io.tpkernels.ffm.nccl;

import static io.tpkernels.ffm.CType.CONST_CHAR_PTR;
import static io.tpkernels.ffm.CType.CONST_VOID_PTR;
import static io.tpkernels.ffm.CType.INT;
import static io.tpkernels.ffm.CType.SIZE_T;
import static io.tpkernels.ffm.CType.VOID_PTR;

import io.tpkernels.ffm.CConstant;
import io.tpkernels.ffm.CFunction;
import io.tpkernels.ffm.CType;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.stream.Stream;

/**
 * NCCL ({@code libnccl.so.2}) as this project uses it, declared in C terms for the signature test against
 * {@code nccl.h}. {@code ncclUniqueId} is a 128-byte struct passed by value to {@code ncclCommInitRank}.
 */
public final class NcclApi {
    private NcclApi() {
    }

    /** Bytes of an {@code ncclUniqueId}. */
    public static final int UNIQUE_ID_BYTES = 128;

    static final CType RESULT = CType.int32("ncclResult_t");
    static final CType RESULT_PTR = CType.pointer("ncclResult_t *");
    static final CType COMM = CType.pointer("ncclComm_t");
    static final CType COMM_PTR = CType.pointer("ncclComm_t *");
    static final CType DATA_TYPE = CType.int32("ncclDataType_t");
    static final CType RED_OP = CType.int32("ncclRedOp_t");
    static final CType STREAM = CType.pointer("cudaStream_t");
    static final CType INT_PTR = CType.pointer("int *");
    static final CType CONST_INT_PTR = CType.pointer("const int *");
    static final CType UNIQUE_ID = new CType("ncclUniqueId",
            MemoryLayout.structLayout(MemoryLayout.sequenceLayout(UNIQUE_ID_BYTES, ValueLayout.JAVA_BYTE).withName("internal")));
    static final CType UNIQUE_ID_PTR = CType.pointer("ncclUniqueId *");

    /** NCCL's version. */
    public static final CFunction ncclGetVersion = CFunction.of("ncclGetVersion", RESULT, INT_PTR);
    /** A new unique id, made by one rank and shared with the others. */
    public static final CFunction ncclGetUniqueId = CFunction.of("ncclGetUniqueId", RESULT, UNIQUE_ID_PTR);
    /** Creates one rank's communicator; blocks until every rank has joined. */
    public static final CFunction ncclCommInitRank = CFunction.of("ncclCommInitRank", RESULT, COMM_PTR, INT, UNIQUE_ID, INT);
    /** Creates the communicators of several devices driven by one thread. */
    public static final CFunction ncclCommInitAll = CFunction.of("ncclCommInitAll", RESULT, COMM_PTR, INT, CONST_INT_PTR);
    /** Destroys a communicator once its work is done. */
    public static final CFunction ncclCommDestroy = CFunction.of("ncclCommDestroy", RESULT, COMM);
    /** Aborts a communicator's work and frees it. */
    public static final CFunction ncclCommAbort = CFunction.of("ncclCommAbort", RESULT, COMM);
    /** A communicator's asynchronous error, if any. */
    public static final CFunction ncclCommGetAsyncError = CFunction.of("ncclCommGetAsyncError", RESULT, COMM, RESULT_PTR);
    /** The description of an {@code ncclResult_t}. */
    public static final CFunction ncclGetErrorString = CFunction.of("ncclGetErrorString", CONST_CHAR_PTR, RESULT);
    /** Queues an all-reduce. */
    public static final CFunction ncclAllReduce = CFunction.of("ncclAllReduce", RESULT, CONST_VOID_PTR, VOID_PTR, SIZE_T,
            DATA_TYPE, RED_OP, COMM, STREAM);
    /** Queues an all-gather. */
    public static final CFunction ncclAllGather = CFunction.of("ncclAllGather", RESULT, CONST_VOID_PTR, VOID_PTR, SIZE_T,
            DATA_TYPE, COMM, STREAM);
    /** Queues a reduce-scatter. */
    public static final CFunction ncclReduceScatter = CFunction.of("ncclReduceScatter", RESULT, CONST_VOID_PTR, VOID_PTR,
            SIZE_T, DATA_TYPE, RED_OP, COMM, STREAM);
    /** Queues a broadcast. */
    public static final CFunction ncclBroadcast = CFunction.of("ncclBroadcast", RESULT, CONST_VOID_PTR, VOID_PTR, SIZE_T,
            DATA_TYPE, INT, COMM, STREAM);
    /** Queues a send to one peer. */
    public static final CFunction ncclSend = CFunction.of("ncclSend", RESULT, CONST_VOID_PTR, SIZE_T, DATA_TYPE, INT, COMM,
            STREAM);
    /** Queues a receive from one peer. */
    public static final CFunction ncclRecv = CFunction.of("ncclRecv", RESULT, VOID_PTR, SIZE_T, DATA_TYPE, INT, COMM, STREAM);
    /** Starts a group of calls issued together. */
    public static final CFunction ncclGroupStart = CFunction.of("ncclGroupStart", RESULT);
    /** Ends a group of calls, issuing them. */
    public static final CFunction ncclGroupEnd = CFunction.of("ncclGroupEnd", RESULT);

    /** Every function bound. */
    public static final List<CFunction> FUNCTIONS = List.of(ncclGetVersion, ncclGetUniqueId, ncclCommInitRank,
            ncclCommInitAll, ncclCommDestroy, ncclCommAbort, ncclCommGetAsyncError, ncclGetErrorString, ncclAllReduce,
            ncclAllGather, ncclReduceScatter, ncclBroadcast, ncclSend, ncclRecv, ncclGroupStart, ncclGroupEnd);

    /** {@code ncclDataType_t}: 32-bit integers. */
    public static final int ncclInt32 = 2;
    /** {@code ncclDataType_t}: 64-bit integers. */
    public static final int ncclInt64 = 4;
    /** {@code ncclDataType_t}: binary16. */
    public static final int ncclFloat16 = 6;
    /** {@code ncclDataType_t}: binary32. */
    public static final int ncclFloat32 = 7;
    /** {@code ncclDataType_t}: bfloat16. */
    public static final int ncclBfloat16 = 9;
    /** {@code ncclRedOp_t}: the sum. */
    public static final int ncclSum = 0;
    /** {@code ncclRedOp_t}: the maximum. */
    public static final int ncclMax = 2;
    /** {@code ncclResult_t}: an operation is still in progress (not an error). */
    public static final int ncclInProgress = 7;
    /** {@code ncclResult_t}: an operation timed out. */
    public static final int ncclTimeout = 8;

    /** The {@code ncclResult_t} values of every NCCL header this binding supports. */
    static final List<CConstant> COMMON_RESULTS = List.of(
            new CConstant("ncclSuccess", 0), new CConstant("ncclUnhandledCudaError", 1),
            new CConstant("ncclSystemError", 2), new CConstant("ncclInternalError", 3),
            new CConstant("ncclInvalidArgument", 4), new CConstant("ncclInvalidUsage", 5),
            new CConstant("ncclRemoteError", 6), new CConstant("ncclInProgress", ncclInProgress));

    /**
     * Results of recent headers only: older releases' {@code nccl.h} (those pip wheels ship, say) lack them, so the
     * signature test asserts them only against a header that declares them.
     */
    public static final List<CConstant> RECENT_RESULTS = List.of(new CConstant("ncclTimeout", ncclTimeout));

    /**
     * Every {@code ncclResult_t} of upstream {@code nccl.h.in} by name ({@code ncclNumResults}, 9, is a count, not
     * a result).
     */
    public static final List<CConstant> RESULTS = Stream.concat(COMMON_RESULTS.stream(), RECENT_RESULTS.stream())
            .toList();

    /** The constants above and the results every supported header has, for the signature test. */
    public static final List<CConstant> CONSTANTS = Stream.concat(Stream.of(
            new CConstant("ncclInt32", ncclInt32), new CConstant("ncclInt64", ncclInt64),
            new CConstant("ncclFloat16", ncclFloat16), new CConstant("ncclFloat32", ncclFloat32),
            new CConstant("ncclBfloat16", ncclBfloat16), new CConstant("ncclSum", ncclSum), new CConstant("ncclMax", ncclMax),
            new CConstant("NCCL_UNIQUE_ID_BYTES", UNIQUE_ID_BYTES)), COMMON_RESULTS.stream()).toList();
}
