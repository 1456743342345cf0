package io.tpkernels.bench.cases;

/**
 * Where {@code tpk bench} writes its rows as they are measured: a row is printed and flushed the moment its
 * median is known, so a run cut short (a hang, a time limit) still leaves every finished row behind.
 */
interface ReportStream {
    /** After the ceilings are measured: their rows, and the roofline the kernel rows are read against. */
    void ceilings(Roofline roofline);

    /** One kernel row. */
    void row(Result kernel);

    /** After the last row. */
    void end();
}
