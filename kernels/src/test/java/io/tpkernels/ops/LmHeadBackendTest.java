package io.tpkernels.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.runtime.DType;
import org.junit.jupiter.api.Test;

/** How the LM head picks cuBLAS or its own kernel: the parts that need no GPU. */
class LmHeadBackendTest {

    @Test
    void theOwnKernelStaysUnlessItIsMoreThanTenPercentSlower() {
        assertFalse(MeasuredChoice.alternativeIsFaster(1.0, 1.0));
        assertFalse(MeasuredChoice.alternativeIsFaster(1.10, 1.0));   // exactly 10% slower: still the own kernel
        assertTrue(MeasuredChoice.alternativeIsFaster(1.11, 1.0));
        assertFalse(MeasuredChoice.alternativeIsFaster(0.5, 1.0));
    }

    @Test
    void decodeTokenCountsAreTheirOwnShapesAndLargerOnesRoundUpToAPowerOfTwo() {
        assertEquals(1, LmHeadCuda.tokenBucket(1));
        assertEquals(16, LmHeadCuda.tokenBucket(16));
        assertEquals(32, LmHeadCuda.tokenBucket(17));
        assertEquals(4096, LmHeadCuda.tokenBucket(4096));
        assertEquals(8192, LmHeadCuda.tokenBucket(4097));
    }

    /** cuBLAS's table of type combinations for cublasGemmEx with CUBLAS_COMPUTE_32F (A, B of one type; C). */
    @Test
    void cublasIsOfferedOnlyTheTypeCombinationsItTakes() {
        assertTrue(CublasGemm.supports(DType.BF16, DType.F32));
        assertTrue(CublasGemm.supports(DType.BF16, DType.BF16));
        assertTrue(CublasGemm.supports(DType.F16, DType.F32));
        assertTrue(CublasGemm.supports(DType.F16, DType.F16));
        assertTrue(CublasGemm.supports(DType.F32, DType.F32));
        assertFalse(CublasGemm.supports(DType.F32, DType.BF16));
        assertFalse(CublasGemm.supports(DType.F16, DType.BF16));
        assertFalse(CublasGemm.supports(DType.BF16, DType.F16));
        assertFalse(CublasGemm.supports(DType.I32, DType.F32));
    }
}
