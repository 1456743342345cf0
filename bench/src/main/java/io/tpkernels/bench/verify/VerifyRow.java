package io.tpkernels.bench.verify;

/**
 * One kernel path checked on the device against the CPU reference.
 *
 * @param path      the path in words ({@code "gemm mma.sync"}, {@code "embedding masked w16"}, ...)
 * @param kernel    the kernel(s) that ran, as the PTX names them, or why none ran
 * @param shape     the shape checked, in words
 * @param dtype     the element type(s)
 * @param maxError  the largest deviation from the reference, relative to its largest magnitude (NaN if the device
 *                  gave a NaN the reference does not have)
 * @param tolerance what the dtype allows
 * @param status    pass, fail, or skip (the path does not exist on this device or build)
 * @param note      what else a reader needs: why it failed or was skipped, or empty
 */
public record VerifyRow(String path, String kernel, String shape, String dtype, double maxError, double tolerance,
                        Status status, String note) {

    /** How a check ended. */
    public enum Status { pass, fail, skip }

    /** A check of {@code maxError} against {@code tolerance}: NaN never passes. */
    static VerifyRow measured(String path, String kernel, String shape, String dtype, double maxError,
                              double tolerance) {
        boolean pass = maxError <= tolerance; // false for NaN
        return new VerifyRow(path, kernel, shape, dtype, maxError, tolerance, pass ? Status.pass : Status.fail,
                pass ? "" : "deviation over the tolerance");
    }

    /** A check whose device result broke the contract in another way (an error where one was due, say). */
    static VerifyRow failed(String path, String kernel, String shape, String dtype, String why) {
        return new VerifyRow(path, kernel, shape, dtype, Double.NaN, 0, Status.fail, why);
    }

    /** A path this device or build does not have. */
    static VerifyRow skipped(String path, String shape, String dtype, String why) {
        return new VerifyRow(path, "-", shape, dtype, Double.NaN, 0, Status.skip, why);
    }

    public boolean failed() {
        return status == Status.fail;
    }
}
