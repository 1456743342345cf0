package io.tpkernels.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs {@code tpk} with the given arguments in this JVM, then prints this process's resident set when it started
 * and its peak ({@code VmRSS} and {@code VmHWM} of Linux's {@code /proc/self/status}, in kB) as the last line, and
 * exits with tpk's status: the child process of {@link LoadingResidentSetTest}.
 */
public final class PeakResidentSet {
    private PeakResidentSet() {
    }

    public static void main(String[] args) throws IOException {
        long start = kilobytes("VmRSS");
        int status = Tpk.commandLine().execute(args);
        System.out.println("resident kB: start " + start + " peak " + kilobytes("VmHWM"));
        System.exit(status);
    }

    /** The {@code field} line of /proc/self/status, in kB. */
    static long kilobytes(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.substring(field.length() + 1).replace("kB", "").trim());
            }
        }
        throw new IllegalStateException("/proc/self/status has no " + field);
    }
}
