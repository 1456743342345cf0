/** The {@code tpk} command-line tool. */
module io.tpkernels.cli {
    requires io.tpkernels.layers;
    requires info.picocli;
    requires com.fasterxml.jackson.databind;
    // tpk bench's roofline chart: drawn by JFreeChart (an automatic module), written as PNG or SVG.
    requires java.desktop;
    requires org.jfree.jfreechart;
    requires org.jfree.svg;

    // picocli reads the command classes reflectively.
    opens io.tpkernels.cli to info.picocli;
    opens io.tpkernels.cli.bench to info.picocli;

    exports io.tpkernels.cli;
}
