/** The {@code tpk} command-line tool. */
module io.tpkernels.cli {
    requires io.tpkernels.layers;
    // tpk bench's measuring, and the Backend that forward and demo take too.
    requires io.tpkernels.bench;
    requires info.picocli;
    requires com.fasterxml.jackson.databind;

    // picocli reads the command classes reflectively.
    opens io.tpkernels.cli to info.picocli;

    exports io.tpkernels.cli;
}
