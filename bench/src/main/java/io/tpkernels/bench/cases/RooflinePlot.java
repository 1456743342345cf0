package io.tpkernels.bench.cases;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * {@code tpk bench --plot}: the roofline chart. Log-log axes, arithmetic intensity (FLOP per byte of traffic)
 * against the achieved FLOP rate; the roof is the measured copy bandwidth rising to the measured GEMM rate,
 * and each kernel shape is a point labelled with its leading size (the tokens). A point's distance below the
 * roof is its percent of ceiling in the table.
 */
final class RooflinePlot {
    private static final int WIDTH = 1200;
    private static final int HEIGHT = 800;
    /** How far the x axis reaches past the outermost point and the ridge, as a factor. */
    private static final double MARGIN = 4;
    /** A label sits this factor above its point: on a log axis, the same few pixels everywhere. */
    private static final double LABEL_LIFT = 1.2;
    /** Kernel colours that stay apart from each other and readable on white. */
    private static final Color[] PALETTE = {new Color(0x1F77B4), new Color(0xD62728), new Color(0x2CA02C),
        new Color(0x9467BD), new Color(0xFF7F0E), new Color(0x8C564B), new Color(0xE377C2), new Color(0x17BECF)};

    private RooflinePlot() {
    }

    static void write(PlotFile file, Report report) {
        // A command-line tool draws off screen: AWT must not look for a display.
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        XYChart chart = chart(report);
        file.write(out -> {
            switch (file.format()) {
                case png -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
                case svg -> VectorGraphicsEncoder.saveVectorGraphic(chart, out,
                        VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
            }
        });
    }

    static XYChart chart(Report report) {
        Backend backend = report.backend();
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title("Roofline: " + report.device())
                .xAxisTitle("arithmetic intensity (FLOP/byte)").yAxisTitle(backend.flopUnit()).build();
        chart.getStyler().setXAxisLogarithmic(true).setYAxisLogarithmic(true)
                .setLegendPosition(Styler.LegendPosition.OutsideS).setLegendLayout(Styler.LegendLayout.Horizontal)
                .setChartBackgroundColor(Color.WHITE).setPlotBackgroundColor(Color.WHITE)
                .setAnnotationTextFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10)).setMarkerSize(9);
        roof(chart, report);

        Map<String, List<Result>> byKernel = new LinkedHashMap<>();
        report.kernels().forEach(r -> byKernel.computeIfAbsent(r.kernel(), k -> new ArrayList<>()).add(r));
        int colour = 0;
        for (Map.Entry<String, List<Result>> kernel : byKernel.entrySet()) {
            List<Double> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            for (Result r : kernel.getValue()) {
                x.add(r.intensity());
                y.add(backend.inFlopUnit(r.flopPerS()));
                chart.addAnnotation(new AnnotationText(r.shape().leading(), r.intensity(),
                        backend.inFlopUnit(r.flopPerS()) * LABEL_LIFT, false));
            }
            XYSeries series = chart.addSeries(kernel.getKey(), x, y);
            series.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            series.setMarkerColor(PALETTE[colour++ % PALETTE.length]);
        }
        return chart;
    }

    /** The roof: the bandwidth line up to the ridge, then flat at the GEMM rate (the line alone without one). */
    private static void roof(XYChart chart, Report report) {
        Backend backend = report.backend();
        Roofline roofline = report.roofline();
        double lo = Double.POSITIVE_INFINITY;
        double hi = 0;
        for (Result r : report.kernels()) {
            lo = Math.min(lo, r.intensity());
            hi = Math.max(hi, r.intensity());
        }
        if (report.kernels().isEmpty()) {
            lo = hi = 1;
        }
        double ridge = roofline.ridge();
        if (Double.isFinite(ridge)) {
            lo = Math.min(lo, ridge);
            hi = Math.max(hi, ridge);
        }
        List<Double> x = new ArrayList<>(List.of(lo / MARGIN));
        if (Double.isFinite(ridge)) {
            x.add(ridge);
        }
        x.add(hi * MARGIN);
        List<Double> y = x.stream().map(i -> backend.inFlopUnit(roofline.attainableFlopPerS(i))).toList();
        String name = String.format(Locale.ROOT, "roof: copy %.0f GB/s", roofline.bandwidthGbPerS())
                + (roofline.gemm() == null ? ""
                        : String.format(Locale.ROOT, ", gemm %.2f %s", backend.inFlopUnit(roofline.gemm().flopPerS()),
                                backend.flopUnit()));
        XYSeries roof = chart.addSeries(name, x, y);
        roof.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        roof.setMarker(SeriesMarkers.NONE);
        roof.setLineColor(Color.BLACK);
        roof.setLineStyle(new BasicStroke(2f));
    }
}
