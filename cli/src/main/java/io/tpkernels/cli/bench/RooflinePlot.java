package io.tpkernels.cli.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.geom.Rectangle2D;
import java.nio.charset.StandardCharsets;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.TickUnits;
import org.jfree.chart.labels.ItemLabelAnchor;
import org.jfree.chart.labels.ItemLabelPosition;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;

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
        JFreeChart chart = chart(report);
        file.write(out -> {
            switch (file.format()) {
                case png -> ChartUtils.writeChartAsPNG(out, chart, WIDTH, HEIGHT);
                case svg -> {
                    SVGGraphics2D g = new SVGGraphics2D(WIDTH, HEIGHT);
                    chart.draw(g, new Rectangle2D.Double(0, 0, WIDTH, HEIGHT));
                    out.write(g.getSVGDocument().getBytes(StandardCharsets.UTF_8));
                }
            }
        });
    }

    static JFreeChart chart(Report report) {
        Backend backend = report.backend();
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(roof(report));
        Map<String, XYSeries> byKernel = new LinkedHashMap<>();
        List<List<String>> labels = new ArrayList<>();
        labels.add(List.of());
        for (Result r : report.kernels()) {
            XYSeries series = byKernel.computeIfAbsent(r.kernel(), k -> {
                XYSeries s = new XYSeries(k, false, true);
                data.addSeries(s);
                labels.add(new ArrayList<>());
                return s;
            });
            series.add(r.intensity(), backend.inFlopUnit(r.flopPerS()));
            labels.get(data.indexOf(series)).add(r.shape().leading());
        }

        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(false, true);
        renderer.setSeriesLinesVisible(0, true);
        renderer.setSeriesShapesVisible(0, false);
        renderer.setSeriesPaint(0, Color.BLACK);
        renderer.setSeriesStroke(0, new BasicStroke(2f));
        renderer.setDefaultItemLabelGenerator((dataset, series, item) -> labels.get(series).isEmpty() ? null
                : labels.get(series).get(item));
        renderer.setDefaultItemLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 9));
        renderer.setDefaultPositiveItemLabelPosition(new ItemLabelPosition(ItemLabelAnchor.OUTSIDE3,
                TextAnchor.CENTER_LEFT));
        renderer.setDefaultItemLabelsVisible(true);

        for (int series = 1; series < data.getSeriesCount(); series++) {
            renderer.setSeriesPaint(series, PALETTE[(series - 1) % PALETTE.length]);
        }

        XYPlot plot = new XYPlot(data, decades("arithmetic intensity (FLOP/byte)"), decades(backend.flopUnit()),
                renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        JFreeChart chart = new JFreeChart("Roofline: " + report.device(), JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.addSubtitle(new TextTitle(report.ceilings() + "; " + report.method()));
        chart.setBackgroundPaint(Color.WHITE);
        return chart;
    }

    /** A log axis whose ticks fall on powers of ten (every one, or every second or fifth), as plain numbers. */
    private static LogAxis decades(String label) {
        LogAxis axis = new LogAxis(label);
        TickUnits decades = new TickUnits();
        for (int step : new int[] {1, 2, 5}) {
            decades.add(new NumberTickUnit(step));
        }
        axis.setStandardTickUnits(decades);
        axis.setMinorTickMarksVisible(true);
        axis.setNumberFormatOverride(new DecimalFormat("#,##0.#####", DecimalFormatSymbols.getInstance(Locale.ROOT)));
        return axis;
    }

    /** The roof: the bandwidth line up to the ridge, then flat at the GEMM rate (the line alone without one). */
    private static XYSeries roof(Report report) {
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
        lo /= MARGIN;
        hi *= MARGIN;
        String name = String.format(Locale.ROOT, "roof: copy %.0f GB/s", roofline.bandwidthGbPerS())
                + (roofline.gemm() == null ? ""
                        : String.format(Locale.ROOT, ", gemm %.2f %s", backend.inFlopUnit(roofline.gemm().flopPerS()),
                                backend.flopUnit()));
        XYSeries roof = new XYSeries(name, false, true);
        roof.add(lo, backend.inFlopUnit(roofline.attainableFlopPerS(lo)));
        if (Double.isFinite(ridge)) {
            roof.add(ridge, backend.inFlopUnit(roofline.attainableFlopPerS(ridge)));
        }
        roof.add(hi, backend.inFlopUnit(roofline.attainableFlopPerS(hi)));
        return roof;
    }
}
