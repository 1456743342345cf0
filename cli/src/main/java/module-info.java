/** The {@code tpk} command-line tool. */
module io.tpkernels.cli {
    requires io.tpkernels.layers;
    // tpk bench's measuring, and the Backend that forward and demo take too.
    requires io.tpkernels.bench;
    requires info.picocli;
    // The library's own notices kept at WARNING in the command line's JVM (Tpk.main).
    requires java.logging;

    // picocli reads the command classes reflectively.
    opens io.tpkernels.cli to info.picocli;

    exports io.tpkernels.cli;
}
