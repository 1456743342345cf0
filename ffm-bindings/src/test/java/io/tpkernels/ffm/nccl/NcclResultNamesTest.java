package io.tpkernels.ffm.nccl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Every result upstream {@code nccl.h.in} defines has its name, with or without the library. */
class NcclResultNamesTest {

    @Test
    void everyUpstreamResultIsNamed() {
        // ncclResult_t of NVIDIA/nccl src/nccl.h.in, in order.
        String[] upstream = {"ncclSuccess", "ncclUnhandledCudaError", "ncclSystemError", "ncclInternalError",
            "ncclInvalidArgument", "ncclInvalidUsage", "ncclRemoteError", "ncclInProgress", "ncclTimeout"};
        for (int code = 0; code < upstream.length; code++) {
            assertEquals(upstream[code], Nccl.resultName(code), "result " + code);
        }
        assertEquals("ncclResult_9", Nccl.resultName(9), "ncclNumResults is a count, not a result");
    }

    @Test
    void aTimeoutReadsAsOneInAnException() {
        String message = new NcclException(8, "ncclCommInitRank(nranks=2, rank=1)").getMessage();
        // NCCL's own description follows where the library is loaded.
        assertTrue(message.startsWith("ncclCommInitRank(nranks=2, rank=1) failed: ncclTimeout (8)"), message);
    }
}
