package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.json.JsonObject;
import io.tpkernels.layers.json.JsonReader;
import io.tpkernels.ops.CublasGemm;
import io.tpkernels.testing.GpuTest;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code tpk bench --backend cuda}: every CUDA path on tiny shapes, and the LM head on the issue's shapes. */
@GpuTest
class BenchCudaTest {

    private static List<JsonObject> rows(CliRun r, String kernel) throws Exception {
        assertEquals(0, r.exit(), r.err());
        List<JsonObject> out = new ArrayList<>();
        JsonReader.STRICT.read(r.out()).asArray("rows").objects().forEach(row -> {
            assertEquals("cuda", row.getString("backend"), row.toString());
            assertTrue(row.getDouble("medianMs") > 0 && row.getDouble("gbPerS") > 0, row.toString());
            if (row.getString("kernel").equals(kernel)) {
                out.add(row);
            }
        });
        return out;
    }

    @Test
    void everyKernelAndBaselineRunsOnTheGpu() throws Exception {
        CliRun r = CliRun.tpk("bench", "--backend", "cuda", "--quick", "--runs", "3", "--json");
        List<String> loraBaselines = new ArrayList<>();
        rows(r, "lora").get(0).getArray("baselines").objects().forEach(b -> loraBaselines.add(b.getString("name")));
        assertEquals(CublasGemm.isAvailable() ? List.of("unfused-cublas", "base-gemm") : List.of("base-gemm"),
                loraBaselines);
        assertEquals(1, rows(r, "embedding").size());
        assertEquals("plain-lookup", rows(r, "embedding-in-shard").get(0).getString("baseline"));
        assertEquals(1, rows(r, "argmax").size());
        assertEquals(2, rows(r, "cast").size());
        assertEquals(1, rows(r, "finetune-step").size());
        assertEquals(1, rows(r, "lm-head-ce").size());
        List<String> lossBaselines = new ArrayList<>();
        rows(r, "lm-head-ce").get(0).getArray("baselines").objects()
                .forEach(b -> lossBaselines.add(b.getString("name")));
        assertEquals(List.of("unfused", "chunked"), lossBaselines, "the epilogue fusion against both forms");
    }

    @Test
    @GpuTest(emulator = false)
    void theLmHeadOnTheIssueShapesIsBoundByTheCopyWhenDecodingAndByCublasWhenPrefilling() throws Exception {
        List<JsonObject> lmHead = rows(CliRun.tpk("bench", "--backend", "cuda", "--kernel", "lm-head", "--json"), "lm-head");
        List<Long> tokens = new ArrayList<>();
        for (JsonObject row : lmHead) {
            long m = row.getObject("shape").getLong("M");
            tokens.add(m);
            assertEquals(15808, row.getObject("shape").getLong("N"));
            assertEquals(8192, row.getObject("shape").getLong("K"));
            assertEquals(16064, row.getObject("shape").getLong("S"));
            double percent = row.getDouble("percentOfCeiling");
            assertTrue(percent > 0 && percent < 150, row.toString());
            if (CublasGemm.isAvailable()) {
                assertEquals("cublas", row.getString("baseline"));
                assertTrue(row.getDouble("ratio") > 0, row.toString());
                assertEquals(m <= 16 ? "copy" : "gemm", row.getString("ceiling"), row.toString());
            }
        }
        assertEquals(List.of(1L, 8L, 16L, 4096L), tokens);
    }
}
