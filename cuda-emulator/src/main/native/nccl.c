/* nccl.c: an emulated NCCL (libnccl.so.2) for the CPU emulator of CUDA: the functions the Java binding binds
 * (io.tpkernels.ffm.nccl.NcclApi), for communicators of ONE rank, on the emulated device's memory (host memory).
 * Written from nccl.h's documentation, not from the Java code that calls it. What it checks is what a real NCCL
 * gets right or wrong at the boundary: the 128-byte ncclUniqueId arrives by value intact (ncclGetUniqueId writes
 * a pattern and a checksum that ncclCommInitRank verifies), counts, types, ops, roots and peers are valid, and
 * send/recv are paired inside a group. A communicator of more than one rank is refused (ncclInvalidUsage): ranks
 * of one process would need the emulator's streams to run asynchronously. Launches are synchronous, as all of the
 * emulator's are. Test: nccl_test.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

typedef enum {
    ncclSuccess = 0,
    ncclUnhandledCudaError = 1,
    ncclSystemError = 2,
    ncclInternalError = 3,
    ncclInvalidArgument = 4,
    ncclInvalidUsage = 5,
    ncclRemoteError = 6,
    ncclInProgress = 7,
    ncclTimeout = 8
} ncclResult_t;

#define UNIQUE_ID_BYTES 128
typedef struct {
    char internal[UNIQUE_ID_BYTES];
} ncclUniqueId;

#define EMULATED_VERSION 22700 /* ncclGetVersion: 2.27.0, as NCCL_VERSION(2, 27, 0) encodes it */
#define ID_MAGIC "tpk-emulated-nccl-id"
#define COMM_MAGIC 0x4E43434Cu
#define MAX_GROUP_OPS 64

typedef struct {
    unsigned magic;
    int aborted;
} comm_t;

/* ncclDataType_t: ncclInt8 0, ncclUint8 1, ncclInt32 2, ncclUint32 3, ncclInt64 4, ncclUint64 5, ncclFloat16 6,
 * ncclFloat32 7, ncclFloat64 8, ncclBfloat16 9. */
static size_t type_size(int type) {
    static const size_t sizes[] = {1, 1, 4, 4, 8, 8, 2, 4, 8, 2};
    return type >= 0 && type < 10 ? sizes[type] : 0;
}

/* ncclRedOp_t: ncclSum 0, ncclProd 1, ncclMax 2, ncclMin 3, ncclAvg 4: of one rank's values, each is the value. */
static int valid_op(int op) {
    return op >= 0 && op <= 4;
}

static int is_comm(const comm_t* c) {
    return c != NULL && c->magic == COMM_MAGIC;
}

static ncclResult_t refuse(ncclResult_t r, const char* call, const char* why) {
    fprintf(stderr, "[tpk-emu-nccl] %s refused: %s\n", call, why);
    return r;
}

EXPORT ncclResult_t ncclGetVersion(int* version) {
    if (version == NULL) {
        return ncclInvalidArgument;
    }
    *version = EMULATED_VERSION;
    return ncclSuccess;
}

EXPORT const char* ncclGetErrorString(ncclResult_t result) {
    switch (result) {
        case ncclSuccess: return "no error";
        case ncclUnhandledCudaError: return "unhandled cuda error";
        case ncclSystemError: return "unhandled system error";
        case ncclInternalError: return "internal error";
        case ncclInvalidArgument: return "invalid argument";
        case ncclInvalidUsage: return "invalid usage";
        case ncclRemoteError: return "remote process exited or there was a network error";
        case ncclInProgress: return "NCCL operation in progress";
        case ncclTimeout: return "NCCL operation timed out";
    }
    return "unknown result code";
}

/* The checksum covers every byte but its own four, so a struct cut short or shifted on its way fails it. */
static uint32_t id_checksum(const ncclUniqueId* id) {
    uint32_t h = 2166136261u;
    for (int i = 0; i < UNIQUE_ID_BYTES - 4; i++) {
        h = (h ^ (uint8_t)id->internal[i]) * 16777619u;
    }
    return h;
}

EXPORT ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
    static unsigned counter = 0;
    if (id == NULL) {
        return ncclInvalidArgument;
    }
    memset(id, 0, sizeof *id);
    memcpy(id->internal, ID_MAGIC, sizeof ID_MAGIC);
    unsigned n = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
    for (int i = (int)sizeof ID_MAGIC; i < UNIQUE_ID_BYTES - 4; i++) {
        id->internal[i] = (char)(i * 31 + n); /* every byte set: a byte lost on the way shows */
    }
    uint32_t sum = id_checksum(id);
    memcpy(id->internal + UNIQUE_ID_BYTES - 4, &sum, 4);
    return ncclSuccess;
}

static ncclResult_t new_comm(comm_t** comm) {
    comm_t* c = calloc(1, sizeof *c);
    if (c == NULL) {
        return ncclSystemError;
    }
    c->magic = COMM_MAGIC;
    *comm = c;
    return ncclSuccess;
}

EXPORT ncclResult_t ncclCommInitRank(comm_t** comm, int nranks, ncclUniqueId id, int rank) {
    uint32_t sum;
    memcpy(&sum, id.internal + UNIQUE_ID_BYTES - 4, 4);
    if (comm == NULL) {
        return refuse(ncclInvalidArgument, "ncclCommInitRank", "comm is NULL");
    }
    if (memcmp(id.internal, ID_MAGIC, sizeof ID_MAGIC) != 0 || sum != id_checksum(&id)) {
        return refuse(ncclInvalidArgument, "ncclCommInitRank", "the unique id is not one ncclGetUniqueId made");
    }
    if (nranks < 1 || rank < 0 || rank >= nranks) {
        return refuse(ncclInvalidArgument, "ncclCommInitRank", "rank outside [0, nranks)");
    }
    if (nranks != 1) {
        return refuse(ncclInvalidUsage, "ncclCommInitRank", "the emulated NCCL has communicators of one rank only");
    }
    return new_comm(comm);
}

EXPORT ncclResult_t ncclCommInitAll(comm_t** comms, int ndev, const int* devlist) {
    if (comms == NULL || ndev < 1) {
        return refuse(ncclInvalidArgument, "ncclCommInitAll", "no communicators asked for");
    }
    if (ndev != 1 || (devlist != NULL && devlist[0] != 0)) {
        return refuse(ncclInvalidUsage, "ncclCommInitAll", "the emulated NCCL has one device, device 0");
    }
    return new_comm(&comms[0]);
}

static ncclResult_t release(comm_t* comm, const char* call) {
    if (!is_comm(comm)) {
        return refuse(ncclInvalidArgument, call, "not a communicator");
    }
    comm->magic = 0;
    free(comm);
    return ncclSuccess;
}

EXPORT ncclResult_t ncclCommDestroy(comm_t* comm) {
    return release(comm, "ncclCommDestroy");
}

EXPORT ncclResult_t ncclCommAbort(comm_t* comm) {
    return release(comm, "ncclCommAbort");
}

EXPORT ncclResult_t ncclCommGetAsyncError(comm_t* comm, ncclResult_t* asyncError) {
    if (!is_comm(comm) || asyncError == NULL) {
        return refuse(ncclInvalidArgument, "ncclCommGetAsyncError", "not a communicator, or no result pointer");
    }
    *asyncError = ncclSuccess;
    return ncclSuccess;
}

/* ---- collectives of one rank: the result is the rank's own data, in place or copied. */

static ncclResult_t copy(const char* call, const void* src, void* dst, size_t count, int type, comm_t* comm) {
    size_t size = type_size(type);
    if (!is_comm(comm)) {
        return refuse(ncclInvalidArgument, call, "not a communicator");
    }
    if (size == 0) {
        return refuse(ncclInvalidArgument, call, "not an ncclDataType_t");
    }
    if (count > 0 && (src == NULL || dst == NULL)) {
        return refuse(ncclInvalidArgument, call, "a NULL buffer");
    }
    if (count > 0 && src != dst) {
        memmove(dst, src, count * size);
    }
    return ncclSuccess;
}

EXPORT ncclResult_t ncclAllReduce(const void* sendbuff, void* recvbuff, size_t count, int datatype, int op,
                                  comm_t* comm, void* stream) {
    (void)stream;
    if (!valid_op(op)) {
        return refuse(ncclInvalidArgument, "ncclAllReduce", "not an ncclRedOp_t");
    }
    return copy("ncclAllReduce", sendbuff, recvbuff, count, datatype, comm);
}

EXPORT ncclResult_t ncclAllGather(const void* sendbuff, void* recvbuff, size_t sendcount, int datatype,
                                  comm_t* comm, void* stream) {
    (void)stream;
    return copy("ncclAllGather", sendbuff, recvbuff, sendcount, datatype, comm);
}

EXPORT ncclResult_t ncclReduceScatter(const void* sendbuff, void* recvbuff, size_t recvcount, int datatype, int op,
                                      comm_t* comm, void* stream) {
    (void)stream;
    if (!valid_op(op)) {
        return refuse(ncclInvalidArgument, "ncclReduceScatter", "not an ncclRedOp_t");
    }
    return copy("ncclReduceScatter", sendbuff, recvbuff, recvcount, datatype, comm);
}

EXPORT ncclResult_t ncclBroadcast(const void* sendbuff, void* recvbuff, size_t count, int datatype, int root,
                                  comm_t* comm, void* stream) {
    (void)stream;
    if (root != 0) {
        return refuse(ncclInvalidArgument, "ncclBroadcast", "root outside [0, nranks)");
    }
    return copy("ncclBroadcast", sendbuff, recvbuff, count, datatype, comm);
}

/* ---- point to point: with one rank the only peer is itself, so a send waits in the group for its recv. */

typedef struct {
    int is_send;
    void* buf;
    size_t count;
    int type;
    comm_t* comm;
} p2p_t;

static __thread int group_depth = 0;
static __thread int group_ops = 0;
static __thread int group_failed = 0;
static __thread p2p_t group[MAX_GROUP_OPS];

static ncclResult_t p2p(int is_send, const char* call, void* buf, size_t count, int type, int peer, comm_t* comm) {
    if (!is_comm(comm) || type_size(type) == 0 || peer != 0 || (count > 0 && buf == NULL)) {
        group_failed = group_depth > 0;
        return refuse(ncclInvalidArgument, call, "bad communicator, type, peer or buffer");
    }
    if (group_depth == 0) {
        return refuse(ncclInvalidUsage, call, "a send to or recv from oneself outside a group never completes");
    }
    if (group_ops == MAX_GROUP_OPS) {
        group_failed = 1;
        return refuse(ncclInvalidUsage, call, "too many operations in one group");
    }
    group[group_ops++] = (p2p_t){is_send, buf, count, type, comm};
    return ncclSuccess;
}

EXPORT ncclResult_t ncclSend(const void* sendbuff, size_t count, int datatype, int peer, comm_t* comm, void* stream) {
    (void)stream;
    return p2p(1, "ncclSend", (void*)sendbuff, count, datatype, peer, comm);
}

EXPORT ncclResult_t ncclRecv(void* recvbuff, size_t count, int datatype, int peer, comm_t* comm, void* stream) {
    (void)stream;
    return p2p(0, "ncclRecv", recvbuff, count, datatype, peer, comm);
}

EXPORT ncclResult_t ncclGroupStart(void) {
    group_depth++;
    return ncclSuccess;
}

/* The outermost end pairs the k-th send with the k-th recv (NCCL matches them in order per peer; with one rank
 * per communicator the peer is always oneself). Collectives called inside a group run at once, not here: with
 * one rank they need no partner. */
EXPORT ncclResult_t ncclGroupEnd(void) {
    if (group_depth == 0) {
        return refuse(ncclInvalidUsage, "ncclGroupEnd", "no group was started");
    }
    if (--group_depth > 0) {
        return ncclSuccess;
    }
    ncclResult_t r = group_failed ? ncclInvalidUsage : ncclSuccess;
    int sends = 0, recvs = 0;
    for (int i = 0; i < group_ops; i++) {
        if (group[i].is_send) {
            sends++;
        } else {
            recvs++;
        }
    }
    if (r == ncclSuccess && sends != recvs) {
        r = refuse(ncclInvalidUsage, "ncclGroupEnd", "a send without its recv, or a recv without its send");
    }
    for (int s = 0, v = 0; r == ncclSuccess && s < group_ops; s++) {
        if (!group[s].is_send) {
            continue;
        }
        while (group[v].is_send) {
            v++;
        }
        if (group[s].comm != group[v].comm || group[s].count != group[v].count || group[s].type != group[v].type) {
            r = refuse(ncclInvalidUsage, "ncclGroupEnd", "a send and its recv differ in communicator, count or type");
            break;
        }
        memmove(group[v].buf, group[s].buf, group[s].count * type_size(group[s].type));
        v++;
    }
    group_ops = 0;
    group_failed = 0;
    return r;
}
