package io.tpkernels.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** {@code tpk} run in-process as a user runs it: arguments in, exit code and both streams out. */
public record CliRun(int exit, String out, String err) {

    /** Runs {@code tpk args...} in this JVM. */
    public static CliRun tpk(String... args) {
        var cl = Tpk.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new CliRun(exit, out.toString(), err.toString());
    }
}
