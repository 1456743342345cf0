/** The {@code tpk} command-line tool. */
module io.tpkernels.cli {
    requires io.tpkernels.layers;
    requires info.picocli;
    requires com.fasterxml.jackson.databind;
    // tpk bench's roofline chart, drawn by XChart (an automatic module) with AWT and written as PNG or SVG.
    requires java.desktop;
    requires org.knowm.xchart;

    // picocli reads the command classes reflectively.
    opens io.tpkernels.cli to info.picocli;
    opens io.tpkernels.cli.bench to info.picocli;

    exports io.tpkernels.cli;
}
