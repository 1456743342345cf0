package io.tpkernels.bench.verify;

import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tuning;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code tpk verify}: every kernel path on a GPU against the CPU reference on random data, each row handed on as
 * soon as its check ends, so that a hang or a crash still leaves every earlier row behind. A check that throws
 * is a failed row naming what it threw; the next check runs.
 */
public final class Verifier {
    private Verifier() {
    }

    /**
     * Runs every check on {@code device} (tuned by {@code tuning}; the checks vary the Hopper and LoRA settings
     * themselves), {@code quick} with small shapes, handing each row to {@code out} as it ends. Returns how many
     * failed.
     */
    public static int run(CudaDevice device, Tuning tuning, boolean quick, Consumer<VerifyRow> out) {
        int failed = 0;
        // The hand-written kernels themselves: a self-check would replace a failing one before it could be seen here.
        try (ExecutionContext gpu = ExecutionContext.create(device.device(), tuning.withSelfCheck(false))) {
            List<Check> checks = new ArrayList<>(GemmChecks.checks(gpu, quick));
            checks.addAll(DataChecks.checks(gpu, quick));
            checks.addAll(CollectiveChecks.checks(gpu, quick));
            checks.addAll(LossChecks.checks(gpu, quick));
            for (Check check : checks) {
                VerifyRow row;
                try {
                    row = check.run().get();
                } catch (RuntimeException e) {
                    row = VerifyRow.failed(check.path(), "-", "-", "-", "threw " + e);
                }
                if (row.failed()) {
                    failed++;
                }
                out.accept(row);
            }
        }
        return failed;
    }
}
