package io.tpkernels.cli;

import io.tpkernels.bench.cases.Backend;
import io.tpkernels.layers.Precision;
import java.util.Locale;
import picocli.CommandLine.Option;

/** The options every command that runs the model shares: where (backend) and in what precision (dtype). */
final class RunOptions {

    @Option(names = "--backend", paramLabel = "cpu|cuda", description = "cpu or cuda (default: cuda when a GPU is found, else cpu)")
    Backend backend;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "f32|bf16", description = "f32 or bf16: weights and activations (default ${DEFAULT-VALUE})")
    String dtype;

    /** The backend asked for, or the default; an error for CUDA without a GPU. */
    Backend backend() {
        return Backend.resolve(backend);
    }

    /** The precision {@code --dtype} names. */
    Precision precision() {
        return switch (dtype.toLowerCase(Locale.ROOT)) {
            case "f32" -> Precision.F32;
            case "bf16" -> Precision.BF16;
            default -> throw new IllegalArgumentException("--dtype must be f32 or bf16, got " + dtype);
        };
    }
}
