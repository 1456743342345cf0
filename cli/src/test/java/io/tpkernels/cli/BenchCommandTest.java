package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tpkernels.cli.CliRun;
import io.tpkernels.layers.json.JsonArray;
import io.tpkernels.layers.json.JsonObject;
import io.tpkernels.layers.json.JsonReader;
import io.tpkernels.testing.GpuCondition;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

/**
 * {@code tpk bench} on the CPU end to end, on the tiny {@code --quick} shapes: the table, the JSON, the plots and
 * bad input. The expected shapes, bytes and FLOPs are worked out by hand from the quick shapes: a vocabulary of
 * 4000 over tp 8 at multiple 64 pads to 4096, S = 512, and the last rank starts at 3584 with 416 real rows.
 */
class BenchCommandTest {

    private static final String[] QUICK = {"bench", "--quick", "--runs", "3", "--warmup", "1"};

    @TempDir
    Path tmp;

    private static CliRun bench(String... more) {
        return quick(Stream.concat(Stream.of("--backend", "cpu"), Arrays.stream(more)).toArray(String[]::new));
    }

    private static CliRun quick(String... more) {
        return CliRun.tpk(Stream.concat(Arrays.stream(QUICK), Arrays.stream(more)).toArray(String[]::new));
    }

    private static double number(String cell) {
        return Double.parseDouble(cell);
    }

    @Test
    void theTableHasARowPerCeilingAndKernelShapeWithPositiveNumbers() {
        CliRun r = bench();
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(0).startsWith("cpu (") && lines.get(0).contains("median of 3 runs"), lines.get(0));
        assertTrue(lines.get(1).startsWith("ceilings: copy = "), lines.get(1));
        int header = lines.indexOf(lines.stream().filter(l -> l.startsWith("kernel")).findFirst().orElseThrow());
        assertEquals(List.of("kernel", "shape", "dtype", "median ms", "GB/s", "GFLOP/s", "of ceiling", "vs baseline"),
                List.of(lines.get(header).split("\\s{2,}")));
        Map<String, Integer> rowsPerKernel = new TreeMap<>();
        for (String line : lines.subList(header + 1, lines.size())) {
            String[] c = line.split("\\s{2,}");
            rowsPerKernel.merge(c[0], 1, Integer::sum);
            assertTrue(number(c[3]) > 0 && number(c[4]) > 0, line);
            boolean ceiling = c[0].equals("copy") || c[0].equals("gemm");
            if (ceiling) {
                assertEquals("ceiling", c[6], line);
            } else {
                assertTrue(number(c[5]) > 0, line);
                assertTrue(c[6].matches("\\d+\\.\\d% (copy|gemm)"), line);
            }
            switch (c[0]) {
                case "embedding-in-shard" -> assertTrue(c[7].matches("\\d+\\.\\d\\dx plain-lookup"), line);
                case "lora" -> assertTrue(c[7].matches("\\d+\\.\\d\\dx base-gemm"), line);
                case "lm-head-ce" -> assertTrue(c[7].matches("\\d+\\.\\d\\dx unfused"), line);
                case "finetune-step" -> assertTrue(c[7].matches("\\d+\\.\\d\\dx base-dx, \\d+\\.\\d\\dx lora-backward"),
                        line);
                default -> assertEquals(7, c.length, "no baseline: " + line);
            }
        }
        assertEquals(Map.of("copy", 1, "gemm", 1, "cast", 2, "embedding", 1, "embedding-in-shard", 1, "lm-head", 1,
                "lora", 1, "argmax", 1, "lm-head-ce", 1, "finetune-step", 1), rowsPerKernel);
    }

    @Test
    void jsonRowsCarryTheDocumentedFieldsAndGemmRowsTheirMnk() throws Exception {
        CliRun r = bench("--json");
        assertEquals(0, r.exit(), r.err());
        JsonArray rows = JsonReader.STRICT.read(r.out()).asArray("rows");
        assertEquals(11, rows.size(), r.out());
        for (JsonObject row : rows.objects()) {
            for (String field : List.of("kernel", "role", "backend", "dtype", "shape", "medianMs", "gbPerS", "gflopPerS",
                    "percentOfCeiling", "ceiling", "baseline", "ratio", "baselines")) {
                assertTrue(row.has(field), field + " in " + row);
            }
            assertEquals("cpu", row.getString("backend"));
            assertTrue(row.getDouble("medianMs") > 0 && row.getDouble("gbPerS") > 0, row.toString());
            if (row.getString("role").equals("kernel")) {
                assertTrue(row.getDouble("gflopPerS") > 0, row.toString());
                assertTrue(row.getDouble("percentOfCeiling") > 0, row.toString());
                assertTrue(List.of("copy", "gemm").contains(row.getString("ceiling")), row.toString());
            } else {
                assertTrue(row.get("percentOfCeiling").isNull() && row.get("baseline").isNull(), row.toString());
            }
        }
        JsonObject lmHead = only(rows, "lm-head");
        assertShape(lmHead, Map.of("M", 2L, "N", 416L, "K", 64L, "S", 512L));
        assertTraffic(lmHead, 416 * 64 * 2 + 2 * 64 * 2 + 2 * 512 * 4, 2.0 * 2 * 416 * 64);
        assertTrue(lmHead.get("baseline").isNull(), "no cuBLAS on the CPU");

        JsonObject lora = only(rows, "lora");
        assertShape(lora, Map.of("M", 2L, "N", 64L, "K", 64L, "R", 4L));
        assertTraffic(lora, (64 * 64 + 4 * 64 + 64 * 4 + 2 * 64 + 2 * 64) * 2, 2.0 * 2 * (64 * 64 + 4 * 64 + 64 * 4));
        assertEquals("base-gemm", lora.getString("baseline"));
        JsonObject base = lora.getArray("baselines").getObject(0);
        assertEquals(base.getDouble("medianMs") / lora.getDouble("medianMs"), lora.getDouble("ratio"),
                1e-12, "ratio = baseline time / kernel time");

        // Ids uniform over the vocabulary against the copy alone; ids all in the shard against the plain lookup.
        JsonObject embedding = only(rows, "embedding");
        assertShape(embedding, Map.of("T", 4L, "H", 64L));
        assertTrue(embedding.get("baseline").isNull() && embedding.getArray("baselines").isEmpty(), embedding.toString());
        JsonObject inShard = only(rows, "embedding-in-shard");
        assertShape(inShard, Map.of("T", 4L, "H", 64L));
        assertTraffic(inShard, 2 * 4 * 64 * 2 + 4 * 4, 4 * 64);
        assertEquals("plain-lookup", inShard.getString("baseline"));
        assertTrue(inShard.getDouble("ratio") > 0);

        JsonObject argmax = only(rows, "argmax");
        assertShape(argmax, Map.of("T", 2L, "S", 512L, "valid", 416L));
        assertTraffic(argmax, 2 * 416 * 4 + 2 * (4 + 8), 2 * 416);

        List<String> casts = new ArrayList<>();
        for (JsonObject row : rows.objects()) {
            if (row.getString("kernel").equals("cast")) {
                casts.add(row.getString("dtype"));
                assertShape(row, Map.of("elements", 1000L));
                assertTraffic(row, 1000 * (4 + 2), 1000);
            }
        }
        assertEquals(List.of("F32->BF16", "BF16->F32"), casts);

        // The fused loss on the quick vocabulary's last shard, T = 40, H = 64: three passes over the valid columns;
        // its peak extra memory and the unfused form's, against the logits' bytes.
        JsonObject ce = only(rows, "lm-head-ce");
        assertShape(ce, Map.of("T", 40L, "H", 64L, "S", 512L, "valid", 416L));
        assertTraffic(ce, 416 * 64 * 2.0 * 2 + 40 * 64 * 2.0 + 40 * 64 * 4.0 + 40 * 8.0, 3 * 2.0 * 40 * 416 * 64);
        assertEquals("unfused", ce.getString("baseline"));
        assertEquals(40 * 512 * 4, ce.getLong("logitsBytes"));
        assertTrue(ce.getLong("unfusedPeakBytes") >= ce.getLong("logitsBytes"), ce.toString());
        assertTrue(ce.getLong("fusedPeakBytes") > 0
                && ce.getLong("fusedPeakBytes") < ce.getLong("logitsBytes"), ce.toString());

        // One step of a one-layer model, K = N = 64, 2 rows of 4 tokens: the layer's three weights read forward and
        // backward; its GEMMs forward and dx backward, and the head's (V = 1024) both ways.
        JsonObject step = only(rows, "finetune-step");
        assertShape(step, Map.of("M", 8L, "N", 64L, "K", 64L, "R", 16L, "V", 1024L));
        assertTraffic(step, 2 * 3 * 64 * 64 * 2, 2 * (2.0 * 8 * 3 * 64 * 64) + 2 * 2.0 * 8 * 1024 * 64);
        assertEquals(List.of("base-dx", "lora-backward"), List.of(step.getArray("baselines").getObject(0).getString("name"),
                step.getArray("baselines").getObject(1).getString("name")));

        assertShape(only(rows, "gemm"), Map.of("M", 64L, "N", 64L, "K", 64L));
        assertTraffic(only(rows, "copy"), 2 << 20, 0);
    }

    private static JsonObject only(JsonArray rows, String kernel) {
        List<JsonObject> found = new ArrayList<>();
        rows.objects().forEach(row -> {
            if (row.getString("kernel").equals(kernel)) {
                found.add(row);
            }
        });
        assertEquals(1, found.size(), kernel + " rows in " + rows);
        return found.get(0);
    }

    private static void assertShape(JsonObject row, Map<String, Long> expected) {
        Map<String, Long> shape = new TreeMap<>();
        JsonObject sizes = row.getObject("shape");
        sizes.keys().forEach(name -> shape.put(name, sizes.getLong(name)));
        assertEquals(new TreeMap<>(expected), shape, row.toString());
    }

    /** The rates times the median give back the bytes and FLOPs one run must move and compute. */
    private static void assertTraffic(JsonObject row, double bytes, double flops) {
        double ms = row.getDouble("medianMs");
        assertEquals(bytes, row.getDouble("gbPerS") * ms * 1e6, bytes * 1e-9, row.toString());
        assertEquals(flops, row.getDouble("gflopPerS") * ms * 1e6, Math.max(flops, 1) * 1e-9, row.toString());
    }

    @Test
    void kernelsAreTimedInTheOrderNamedAndOnlyThose() throws Exception {
        for (String[] selection : List.of(new String[] {"--kernel", "lora,argmax"},
                new String[] {"--kernel", "lora", "--kernel", "argmax"})) {
            CliRun r = bench(Stream.concat(Stream.of("--json"), Arrays.stream(selection)).toArray(String[]::new));
            assertEquals(0, r.exit(), r.err());
            List<String> kernels = new ArrayList<>();
            JsonReader.STRICT.read(r.out()).asArray("rows").objects()
                    .forEach(row -> kernels.add(row.getString("kernel")));
            assertEquals(List.of("copy", "gemm", "lora", "argmax"), kernels);
        }
    }

    @Test
    void plotWritesAPngThatImageIoReadsAndNothingElse() throws Exception {
        Path png = tmp.resolve("roofline.PNG");
        CliRun r = bench("--kernel", "lm-head,cast", "--plot", png.toString());
        assertEquals(0, r.exit(), r.err());
        byte[] bytes = Files.readAllBytes(png);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, Arrays.copyOf(bytes, 8));
        BufferedImage image = ImageIO.read(png.toFile());
        assertNotNull(image, "ImageIO reads it");
        assertEquals(1200, image.getWidth());
        assertEquals(800, image.getHeight());
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of(png), files.toList(), "no temporary file left beside it");
        }
    }

    @Test
    void plotWritesAnSvgThatParsesAsXmlWithEachKernelInItsColour() throws Exception {
        Path svg = tmp.resolve("roofline.svg");
        CliRun r = bench("--kernel", "lm-head,lora", "--plot", svg.toString());
        assertEquals(0, r.exit(), r.err());
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        // The SVG names its DTD by URL: parse without fetching it.
        factory.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        Document doc = factory.newDocumentBuilder().parse(svg.toFile());
        assertEquals("svg", doc.getDocumentElement().getTagName());
        assertEquals("1200px", doc.getDocumentElement().getAttribute("width"));
        assertTrue(doc.getElementsByTagName("path").getLength() > 0, "text and markers are drawn as paths");
        String text = Files.readString(svg);
        // The first kernels' colours (0x1F77B4, 0xD62728) mark the two series drawn; the third's (0x2CA02C) is unused.
        assertTrue(text.contains("rgb(31,119,180)") && text.contains("rgb(214,39,40)"), "both kernels drawn");
        assertFalse(text.contains("rgb(44,160,44)"), "no third kernel");
    }

    private void assertBadInput(String expected, String... args) {
        CliRun r = CliRun.tpk(Stream.concat(Stream.of("bench", "--quick"), Arrays.stream(args)).toArray(String[]::new));
        assertEquals(2, r.exit(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertTrue(!r.err().contains("Exception") && !r.err().contains("\tat "), "no stack trace: " + r.err());
        assertTrue(r.out().isEmpty(), "nothing measured: " + r.out());
    }

    @Test
    void badInputIsExitCodeTwoAndOneLineAndNoPlotFile() throws Exception {
        assertBadInput("unknown kernel 'nope' (known: cast, embedding, lm-head, lora, argmax, lm-head-ce,"
                + " finetune-step)", "--kernel", "lora,nope");
        assertBadInput("Invalid value for option '--backend'", "--backend", "tpu");
        Path jpg = tmp.resolve("roofline.jpg");
        assertBadInput("the file name must end in .png or .svg", "--plot", jpg.toString());
        assertFalse(Files.exists(jpg));
        assertBadInput("the file name must end in .png or .svg", "--plot", tmp.resolve("png").toString());
        assertBadInput("does not exist", "--plot", tmp.resolve("missing/roofline.png").toString());
        Path file = Files.writeString(tmp.resolve("file"), "x");
        assertBadInput("is not a folder", "--plot", file.resolve("roofline.png").toString());
        Path folder = Files.createDirectory(tmp.resolve("folder.svg"));
        assertBadInput("is a folder", "--plot", folder.toString());
        assertBadInput("--runs must be 1 to 1000000, got 0", "--runs", "0");
        CliRun fewRuns = CliRun.tpk("bench", "--backend", "cpu", "--runs", "19");
        assertEquals(2, fewRuns.exit(), fewRuns.out() + fewRuns.err());
        assertEquals("tpk bench: --runs must be at least 20 (1 with --quick) and --warmup at least 0, got 19 and 3",
                fewRuns.err().strip());
        assertTrue(fewRuns.out().isEmpty(), "nothing measured: " + fewRuns.out());
        assertBadInput("--warmup must be 0 to 1000000, got -1", "--warmup", "-1");
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of("file", "folder.svg"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void cudaWithoutAGpuIsBadInputSayingWhy() {
        assumeTrue(GpuCondition.whyNoGpu() != null, "this machine has a GPU");
        assertBadInput("--backend cuda: no GPU can be used", "--backend", "cuda");
    }
}
