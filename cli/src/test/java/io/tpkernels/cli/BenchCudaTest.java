package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tpkernels.ops.CublasGemm;
import io.tpkernels.testing.GpuTest;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code tpk bench --backend cuda}: every CUDA path on tiny shapes, and the LM head on the issue's shapes. */
@GpuTest
class BenchCudaTest {

    private static List<JsonNode> rows(CliRun r, String kernel) throws Exception {
        assertEquals(0, r.exit(), r.err());
        List<JsonNode> out = new ArrayList<>();
        new ObjectMapper().readTree(r.out()).forEach(row -> {
            assertEquals("cuda", row.get("backend").asText(), row.toString());
            assertTrue(row.get("medianMs").asDouble() > 0 && row.get("gbPerS").asDouble() > 0, row.toString());
            if (row.get("kernel").asText().equals(kernel)) {
                out.add(row);
            }
        });
        return out;
    }

    @Test
    void everyKernelAndBaselineRunsOnTheGpu() throws Exception {
        CliRun r = CliRun.tpk("bench", "--backend", "cuda", "--quick", "--runs", "3", "--json");
        List<String> loraBaselines = new ArrayList<>();
        rows(r, "lora").get(0).get("baselines").forEach(b -> loraBaselines.add(b.get("name").asText()));
        assertEquals(CublasGemm.isAvailable() ? List.of("unfused-cublas", "base-gemm") : List.of("base-gemm"),
                loraBaselines);
        assertEquals(1, rows(r, "embedding").size());
        assertEquals("plain-lookup", rows(r, "embedding-in-shard").get(0).get("baseline").asText());
        assertEquals(1, rows(r, "argmax").size());
        assertEquals(2, rows(r, "cast").size());
        assertEquals(1, rows(r, "finetune-step").size());
        assertEquals(1, rows(r, "lm-head-ce").size());
        List<String> lossBaselines = new ArrayList<>();
        rows(r, "lm-head-ce").get(0).get("baselines").forEach(b -> lossBaselines.add(b.get("name").asText()));
        assertEquals(List.of("unfused", "chunked"), lossBaselines, "the epilogue fusion against both forms");
    }

    @Test
    @GpuTest(emulator = false)
    void theLmHeadOnTheIssueShapesIsBoundByTheCopyWhenDecodingAndByCublasWhenPrefilling() throws Exception {
        List<JsonNode> lmHead = rows(CliRun.tpk("bench", "--backend", "cuda", "--kernel", "lm-head", "--json"), "lm-head");
        List<Long> tokens = new ArrayList<>();
        for (JsonNode row : lmHead) {
            long m = row.get("shape").get("M").asLong();
            tokens.add(m);
            assertEquals(15808, row.get("shape").get("N").asLong());
            assertEquals(8192, row.get("shape").get("K").asLong());
            assertEquals(16064, row.get("shape").get("S").asLong());
            double percent = row.get("percentOfCeiling").asDouble();
            assertTrue(percent > 0 && percent < 150, row.toString());
            if (CublasGemm.isAvailable()) {
                assertEquals("cublas", row.get("baseline").asText());
                assertTrue(row.get("ratio").asDouble() > 0, row.toString());
                assertEquals(m <= 16 ? "copy" : "gemm", row.get("ceiling").asText(), row.toString());
            }
        }
        assertEquals(List.of(1L, 8L, 16L, 4096L), tokens);
    }
}
