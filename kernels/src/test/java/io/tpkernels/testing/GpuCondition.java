package io.tpkernels.testing;

import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.gpu.CudaDevice;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Skips {@link GpuTest}s, saying why, when there is no usable CUDA device. */
public final class GpuCondition implements ExecutionCondition {

    /** Why GPU tests cannot run here, or {@code null} when they can. */
    public static String whyNoGpu() {
        if (!CudaDriver.isAvailable()) {
            return "no GPU: " + CudaDriver.unavailableReason().orElse("the CUDA driver is not available");
        }
        return CudaDevice.count() == 0 ? "no GPU: the CUDA driver reports no devices" : null;
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        String why = whyNoGpu();
        return why == null ? ConditionEvaluationResult.enabled("CUDA device 0: " + CudaDevice.of(0))
                : ConditionEvaluationResult.disabled(why);
    }
}
