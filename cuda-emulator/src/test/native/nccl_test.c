/* nccl_test.c: the emulated NCCL (nccl.c) against what nccl.h documents for a communicator of one rank. Run by
 * the emulator self-test; runs every check, exits 1 if any failed. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    char internal[128];
} ncclUniqueId;
typedef void* ncclComm_t;
int ncclGetVersion(int* version);
int ncclGetUniqueId(ncclUniqueId* id);
int ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId id, int rank);
int ncclCommInitAll(ncclComm_t* comms, int ndev, const int* devlist);
int ncclCommDestroy(ncclComm_t comm);
int ncclCommAbort(ncclComm_t comm);
int ncclCommGetAsyncError(ncclComm_t comm, int* asyncError);
const char* ncclGetErrorString(int result);
int ncclAllReduce(const void* sendbuff, void* recvbuff, size_t count, int datatype, int op, ncclComm_t comm,
                  void* stream);
int ncclAllGather(const void* sendbuff, void* recvbuff, size_t sendcount, int datatype, ncclComm_t comm, void* stream);
int ncclReduceScatter(const void* sendbuff, void* recvbuff, size_t recvcount, int datatype, int op, ncclComm_t comm,
                      void* stream);
int ncclBroadcast(const void* sendbuff, void* recvbuff, size_t count, int datatype, int root, ncclComm_t comm,
                  void* stream);
int ncclSend(const void* sendbuff, size_t count, int datatype, int peer, ncclComm_t comm, void* stream);
int ncclRecv(void* recvbuff, size_t count, int datatype, int peer, ncclComm_t comm, void* stream);
int ncclGroupStart(void);
int ncclGroupEnd(void);

enum { SUCCESS = 0, INVALID_ARGUMENT = 4, INVALID_USAGE = 5 };
enum { INT32 = 2, FLOAT32 = 7, BFLOAT16 = 9, SUM = 0, MAX = 2 };

static int failures = 0;
#define CHECK(cond, what)                                                   \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "nccl_test: FAILED %s: %s\n", #cond, what);     \
            failures++;                                                     \
        }                                                                   \
    } while (0)

int main(void) {
    int version = 0;
    CHECK(ncclGetVersion(&version) == SUCCESS && version >= 22700, "version");
    ncclUniqueId id;
    CHECK(ncclGetUniqueId(&id) == SUCCESS, "unique id");

    ncclUniqueId damaged = id;
    damaged.internal[100] ^= 1;
    ncclComm_t comm = NULL;
    CHECK(ncclCommInitRank(&comm, 1, damaged, 0) == INVALID_ARGUMENT, "an id with a byte changed is refused");
    CHECK(ncclCommInitRank(&comm, 2, id, 0) == INVALID_USAGE, "two ranks are refused");
    CHECK(ncclCommInitRank(&comm, 1, id, 1) == INVALID_ARGUMENT, "rank 1 of 1");
    CHECK(ncclCommInitRank(&comm, 1, id, 0) == SUCCESS && comm != NULL, "one rank");

    int async = -1;
    CHECK(ncclCommGetAsyncError(comm, &async) == SUCCESS && async == SUCCESS, "no async error");

    float in[4] = {1.5f, -2.0f, 3.25f, 0.0f}, out[4] = {0};
    CHECK(ncclAllReduce(in, out, 4, FLOAT32, SUM, comm, NULL) == SUCCESS && memcmp(in, out, sizeof in) == 0,
          "the sum over one rank is its data");
    memset(out, 0, sizeof out);
    CHECK(ncclAllGather(in, out, 4, FLOAT32, comm, NULL) == SUCCESS && memcmp(in, out, sizeof in) == 0, "all-gather");
    memset(out, 0, sizeof out);
    CHECK(ncclReduceScatter(in, out, 4, FLOAT32, MAX, comm, NULL) == SUCCESS && memcmp(in, out, sizeof in) == 0,
          "reduce-scatter");
    CHECK(ncclBroadcast(in, in, 4, FLOAT32, 0, comm, NULL) == SUCCESS && in[2] == 3.25f, "broadcast in place");
    CHECK(ncclBroadcast(in, out, 4, FLOAT32, 1, comm, NULL) == INVALID_ARGUMENT, "root 1 of 1 rank");
    CHECK(ncclAllReduce(in, out, 4, 42, SUM, comm, NULL) == INVALID_ARGUMENT, "a type that is none");
    CHECK(ncclAllReduce(in, out, 4, FLOAT32, 9, comm, NULL) == INVALID_ARGUMENT, "an op that is none");

    uint16_t half_in[3] = {0x3F80, 0x4000, 0xC040}, half_out[3] = {0};
    CHECK(ncclGroupStart() == SUCCESS, "group");
    CHECK(ncclSend(half_in, 3, BFLOAT16, 0, comm, NULL) == SUCCESS, "send to oneself");
    CHECK(ncclRecv(half_out, 3, BFLOAT16, 0, comm, NULL) == SUCCESS, "recv from oneself");
    CHECK(ncclGroupEnd() == SUCCESS && memcmp(half_in, half_out, sizeof half_in) == 0, "the pair moves the data");
    CHECK(ncclSend(half_in, 3, BFLOAT16, 0, comm, NULL) == INVALID_USAGE, "a send to oneself outside a group");
    CHECK(ncclGroupStart() == SUCCESS && ncclSend(half_in, 3, BFLOAT16, 0, comm, NULL) == SUCCESS, "lone send");
    CHECK(ncclGroupEnd() == INVALID_USAGE, "a send without its recv");
    CHECK(ncclGroupStart() == SUCCESS && ncclSend(half_in, 3, BFLOAT16, 0, comm, NULL) == SUCCESS
              && ncclRecv(half_out, 2, BFLOAT16, 0, comm, NULL) == SUCCESS, "mismatched pair queued");
    CHECK(ncclGroupEnd() == INVALID_USAGE, "a send and a recv of different counts");
    CHECK(ncclGroupEnd() == INVALID_USAGE, "an end without a start");

    CHECK(ncclCommDestroy(comm) == SUCCESS, "destroy");
    ncclComm_t all[1] = {NULL};
    CHECK(ncclCommInitAll(all, 1, NULL) == SUCCESS && all[0] != NULL, "init all, one device");
    int two[2] = {0, 1};
    ncclComm_t pair[2];
    CHECK(ncclCommInitAll(pair, 2, two) == INVALID_USAGE, "two devices are refused");
    CHECK(ncclCommAbort(all[0]) == SUCCESS, "abort");
    CHECK(strcmp(ncclGetErrorString(INVALID_USAGE), "invalid usage") == 0, "error string");
    if (failures) {
        fprintf(stderr, "nccl_test: %d failure(s)\n", failures);
        return 1;
    }
    printf("nccl_test: every check passed\n");
    return 0;
}
