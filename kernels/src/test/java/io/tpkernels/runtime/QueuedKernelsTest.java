package io.tpkernels.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@link QueuedKernels}: what a failed wait or launch says about the kernels it can have been. */
class QueuedKernelsTest {

    private static final String PREFIX = "a kernel trapped or faulted; kernels queued since the last wait: ";

    @Test
    void namesTheKernelsQueuedSinceTheLastSuccessfulWaitThenTheFailedLaunch() {
        QueuedKernels q = new QueuedKernels();
        q.add("k_before");
        long mark = q.mark();
        q.add("k_during"); // queued while the wait ran: not covered by it
        q.waitedFor(mark);
        q.add("k_after");
        assertEquals(PREFIX + "[k_during, k_after]", q.describeFault(null));
        assertEquals(PREFIX + "[k_during, k_after, k_failed]", q.describeFault("k_failed"));
        q.waitedFor(q.mark());
        assertEquals(PREFIX + "[]", q.describeFault(null));
        assertEquals(PREFIX + "[k_failed]", q.describeFault("k_failed"));
    }

    @Test
    void keepsTheLatestNamesAndCountsTheOthers() {
        QueuedKernels q = new QueuedKernels();
        for (int i = 0; i < QueuedKernels.CAPACITY + 3; i++) {
            q.add("k" + i);
        }
        String described = q.describeFault(null);
        assertTrue(described.startsWith(PREFIX + "[3 earlier, k3, k4,"), described);
        assertTrue(described.endsWith(", k" + (QueuedKernels.CAPACITY + 2) + "]"), described);
    }

    @Test
    void aTrapOrAFaultIsAKernelFaultOtherErrorsAreNot() {
        assertTrue(QueuedKernels.isKernelFault(719)); // CUDA_ERROR_LAUNCH_FAILED: a trap
        assertTrue(QueuedKernels.isKernelFault(700)); // CUDA_ERROR_ILLEGAL_ADDRESS
        assertFalse(QueuedKernels.isKernelFault(2));  // CUDA_ERROR_OUT_OF_MEMORY
        assertFalse(QueuedKernels.isKernelFault(1));  // CUDA_ERROR_INVALID_VALUE: a bad launch, nothing ran
    }
}
