package io.tpkernels.testing;

import io.tpkernels.runtime.CudaDevice;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;

/** Skips {@link GpuTest}s, saying why, when there is no usable CUDA device. */
public final class GpuCondition implements ExecutionCondition {

    /** Why GPU tests cannot run here, or {@code null} when they can. */
    public static String whyNoGpu() {
        return CudaDevice.count() == 0 ? "no GPU: " + CudaDevice.unavailableReason().orElseThrow() : null;
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        String why = whyNoGpu();
        if (why != null) {
            return ConditionEvaluationResult.disabled(why);
        }
        CudaDevice device = CudaDevice.of(0);
        boolean emulatorWelcome = AnnotationSupport.findAnnotation(context.getElement(), GpuTest.class)
                .or(() -> context.getTestClass().flatMap(c -> AnnotationSupport.findAnnotation(c, GpuTest.class)))
                .map(GpuTest::emulator).orElse(true);
        if (device.isEmulator() && !emulatorWelcome) {
            return ConditionEvaluationResult.disabled("needs a real GPU, and CUDA device 0 is " + device);
        }
        return ConditionEvaluationResult.enabled("CUDA device 0: " + device);
    }
}
