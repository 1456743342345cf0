package io.tpkernels.bench.verify;

import java.util.function.Supplier;

/** One check, not yet run: the path it checks, and how. */
record Check(String path, Supplier<VerifyRow> run) {
}
