package io.tpkernels.cli.bench;

import io.tpkernels.cli.Tpk;
import java.io.PrintWriter;
import java.io.StringWriter;

/** {@code tpk} run as a user runs it: arguments in; exit code, standard output and standard error out. */
record TpkRun(int exit, String out, String err) {

    static TpkRun of(String... args) {
        var cl = Tpk.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new TpkRun(exit, out.toString(), err.toString());
    }
}
