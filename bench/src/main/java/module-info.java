/**
 * The benchmarks. {@code io.tpkernels.bench.cases} is {@code tpk bench}'s measuring: the kernel cases and their
 * baselines, the ceilings, the roofline, the reports (table, JSON, chart), the random inputs and the vocabulary the
 * shapes split, and {@link io.tpkernels.bench.cases.Backend}, which every {@code tpk} command that runs kernels
 * takes. {@code io.tpkernels.bench} holds the JMH benchmarks, which share those inputs; they run from
 * {@code benchmarks.jar} on the class path, and JMH and JCuda are read from the class path when they are compiled
 * (bench/pom.xml), so this descriptor names only what {@code tpk bench} needs on the module path.
 */
module io.tpkernels.bench {
    requires transitive io.tpkernels.kernels;
    // The finetune-step case trains the demo model; the JSON report is written with the layers' JSON writer.
    requires io.tpkernels.layers;
    // The roofline chart, drawn by XChart (an automatic module) with AWT and written as PNG or SVG.
    requires java.desktop;
    requires org.knowm.xchart;

    exports io.tpkernels.bench.cases;
    exports io.tpkernels.bench.verify;
}
