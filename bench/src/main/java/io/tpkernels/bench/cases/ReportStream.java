package io.tpkernels.bench.cases;

/**
 * Where {@code tpk bench} writes its rows as they are measured: a row is printed and flushed the moment its
 * median is known, so a run cut short (a hang, a time limit) still leaves every finished row behind.
 */
abstract class ReportStream {
    /** The roofline the kernel rows are read against, once the ceilings are measured. */
    Roofline roofline;

    /** After the ceilings are measured: their rows (the copy, then the GEMM where one was measured). */
    final void ceilings(Roofline measured) {
        roofline = measured;
        row(measured.copy());
        if (measured.gemm() != null) {
            row(measured.gemm());
        }
    }

    /** One row, written now. */
    abstract void row(Result result);

    /** After the last row. */
    abstract void end();
}
