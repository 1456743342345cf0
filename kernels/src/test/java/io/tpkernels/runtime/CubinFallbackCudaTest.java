package io.tpkernels.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tpkernels.cuda.sources.KernelNames;
import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.ffm.cuda.CudaException;
import io.tpkernels.ops.Cast;
import io.tpkernels.testing.GpuTest;
import io.tpkernels.testing.RandomData;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The packaged cubin comes first; a driver that refuses it (the emulator runs no machine code, so it refuses every
 * cubin as a GPU refuses one built for another architecture) gets the PTX next, and the module loaded from it runs.
 */
@GpuTest
class CubinFallbackCudaTest {

    private final CudaDevice device = CudaDevice.of(0);

    @Test
    void theCubinIsTriedFirstAndARefusedOneFallsThroughToThePtx() {
        List<PtxLibrary.Choice> choices = PtxLibrary.packaged()
                .choices(KernelNames.MODULE_CAST, device.computeCapability(), Tuning.PtxSource.PACKAGED);
        assumeTrue(choices.get(0).form() == PtxLibrary.Form.CUBIN, "no cubin for " + device + " is packaged");
        List<String> tried = new ArrayList<>();
        ModuleCache.Loaded loaded = device.modules().loadWith(KernelNames.MODULE_CAST, Tuning.PtxSource.PACKAGED,
                (choice, image) -> {
                    try {
                        ModuleCache.Loaded l = device.modules().loadHere(choice, image);
                        tried.add(choice + " loaded");
                        return l;
                    } catch (CudaException e) {
                        tried.add(choice + " refused: " + e.statusName());
                        throw e;
                    }
                });
        try {
            if (device.isEmulator()) {
                assertEquals(List.of(choices.get(0) + " refused: CUDA_ERROR_NO_BINARY_FOR_GPU",
                        choices.get(1) + " loaded"), tried);
                assertEquals(PtxLibrary.Form.PTX, loaded.source().form());
            } else if (CudaDriver.driverVersion() >= 13000) {
                // A driver of CUDA 13 or newer loads the cubins a CUDA 13 ptxas built; an older one may refuse them.
                assertEquals(List.of(choices.get(0) + " loaded"), tried, "a GPU runs the cubin built for it");
            }
            castRuns(device.modules().kernelOf(loaded, KernelNames.TPK_CAST_F32_TO_BF16));
        } finally {
            device.makeCurrent();
            CudaDriver.moduleUnload(loaded.module());
        }
    }

    private void castRuns(CudaKernel kernel) {
        float[] values = RandomData.floats(5, 1031);
        try (Tensor src = Tensor.ofFloats(DType.F32, values, values.length);
             Tensor gpuSrc = src.copyTo(device.device());
             Tensor gpuDst = Tensor.allocate(device.device(), DType.BF16, values.length);
             Tensor expected = Cast.to(ExecutionContext.defaultFor(src.device()), src, DType.BF16)) {
            gpuDst.fillBytes((byte) 0xFF);
            CudaStream stream = CudaStream.legacyDefault(device);
            kernel.launch(stream, 4, 256, 0,
                    KernelArgs.begin().ptr(gpuDst.devicePointer()).ptr(gpuSrc.devicePointer()).i64(values.length));
            stream.synchronize();
            assertArrayEquals(expected.toFloatArray(), gpuDst.toFloatArray());
        }
    }
}
