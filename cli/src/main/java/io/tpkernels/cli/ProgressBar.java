package io.tpkernels.cli;

import java.io.PrintWriter;

/**
 * A one-line progress bar on stderr that appears only once the work has taken more than a second (quick loads
 * print nothing), redrawn in place, and finished with a newline.
 */
final class ProgressBar {
    private static final long DELAY_NANOS = 1_000_000_000L;
    private static final int WIDTH = 30;

    private final PrintWriter err;
    private final String label;
    private final long started = System.nanoTime();
    private boolean shown;

    ProgressBar(PrintWriter err, String label) {
        this.err = err;
        this.label = label;
    }

    /** Reports {@code done} of {@code total}; safe to call from several threads. */
    synchronized void update(int done, int total) {
        update(done, total, "");
    }

    /** Reports {@code done} of {@code total} followed by {@code note} (a running value). */
    synchronized void update(int done, int total, String note) {
        if (System.nanoTime() - started < DELAY_NANOS && !shown) {
            return;
        }
        shown = true;
        int filled = total == 0 ? WIDTH : (int) ((long) WIDTH * done / total);
        err.print("\r" + label + " [" + "#".repeat(filled) + ".".repeat(WIDTH - filled) + "] " + done + "/" + total
                + (note.isEmpty() ? "" : " " + note));
        err.flush();
    }

    /** Ends the line if the bar was shown. */
    synchronized void finish() {
        if (shown) {
            err.println();
            err.flush();
        }
    }
}
