package io.tpkernels.cli;

import io.tpkernels.bench.cases.Backend;
import io.tpkernels.bench.verify.Verifier;
import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.Tuning;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tpk verify}: every kernel path on the GPU against the CPU reference on random data, one row per path as
 * it finishes. Exit 0 when every path passes (or is absent from this device), 1 when any fails, 2 when there is
 * no GPU to check.
 */
@Command(name = "verify", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Check every kernel path on the GPU against the CPU reference on random data.",
                "Each GEMM body, LoRA route, the LM head, the embedding lookups and their bad-id flag, argmax, casts,"
                        + " elementwise kernels and the collectives: one row per path as it finishes. Run it on a new"
                        + " GPU, driver or CUDA version. Exit 1 if any path fails."})
final class VerifyCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--backend", paramLabel = "cuda", description = "the backend to check (cuda, the default)")
    Backend backend = Backend.cuda;

    @Option(names = "--json", description = "print a JSON array of {path, kernel, shape, dtype, maxError, tolerance,"
            + " pass, status, note}, each object as its check ends")
    boolean json;

    @Option(names = "--quick", description = "small shapes (seconds on a GPU; what CI runs on the emulator)")
    boolean quick;

    @Override
    public Integer call() {
        if (backend != Backend.cuda) {
            throw new IllegalArgumentException("--backend " + backend + ": verify checks the GPU kernels against the"
                    + " CPU reference, so there is nothing to check on the CPU");
        }
        if (CudaDevice.count() == 0) {
            throw new IllegalArgumentException("no GPU can be used: " + CudaDevice.unavailableReason().orElseThrow());
        }
        PrintWriter out = spec.commandLine().getOut();
        CudaDevice device = CudaDevice.of(0);
        VerifyOutput rows = json ? VerifyOutput.json(out) : VerifyOutput.table(out, device.toString());
        int failed = Verifier.run(device, Tuning.fromSystemProperties(), quick, rows::row);
        rows.end(failed);
        return failed == 0 ? 0 : 1;
    }
}
