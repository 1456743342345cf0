package io.tpkernels.ffm.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tpkernels.ffm.CConstant;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What the driver bindings do where there is no driver: one sentence, never a linkage error. */
class CudaDriverWithoutGpuTest {

    @Test
    void withoutADriverEveryCallSaysWhyInOneSentence() {
        assumeTrue(!CudaDriver.library().isLoaded(), "a CUDA driver is installed here");
        String reason = CudaDriver.unavailableReason().orElseThrow();
        assertTrue(reason.contains("libcuda.so.1") && reason.contains("LD_LIBRARY_PATH"), reason);
        var e = assertThrows(IllegalStateException.class, CudaDriver::driverVersion);
        assertTrue(e.getMessage().startsWith("CUDA is not available: "), e.getMessage());
        assertThrows(IllegalStateException.class, () -> CudaDriver.memAlloc(16));
    }

    @Test
    void statusesAreNamedFromCudaHsTableWhenTheDriverCannot() {
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", CudaDriver.errorName(2));
        assertEquals("CUDA_ERROR_UNSUPPORTED_PTX_VERSION", CudaDriver.errorName(222));
        assertEquals("CUDA_ERROR_UNKNOWN_STATUS_123456", CudaDriver.errorName(123456));
        Set<Integer> seen = new HashSet<>();
        for (CConstant c : CudaDriverApi.RESULTS) {
            assertTrue(seen.add(c.value()), "one name per status: " + c);
        }
    }

    @Test
    void anExceptionCarriesTheNameTheCallAndItsArguments() {
        CudaException e = new CudaException(2, "cuMemAlloc_v2(bytes=1024)");
        assertEquals(2, e.status());
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.statusName());
        assertTrue(e.getMessage().startsWith("cuMemAlloc_v2(bytes=1024) failed: CUDA_ERROR_OUT_OF_MEMORY (2)"),
                e.getMessage());
    }
}
