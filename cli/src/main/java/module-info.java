/** The {@code tpk} command-line tool. */
module io.tpkernels.cli {
    requires io.tpkernels.layers;
    requires info.picocli;
    requires com.fasterxml.jackson.databind;

    // picocli reads the command classes reflectively.
    opens io.tpkernels.cli to info.picocli;

    exports io.tpkernels.cli;
}
