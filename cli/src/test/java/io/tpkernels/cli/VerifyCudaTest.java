package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tpkernels.testing.GpuTest;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@code tpk verify --quick} on the device: every path's row, each checked against its tolerance. */
@GpuTest
class VerifyCudaTest {

    private static final List<String> PATHS = List.of("gemm decode, tensor cores", "gemm decode, f32", "gemm mma.sync",
            "gemm simt", "gemm wgmma v1", "gemm wgmma ping-pong", "gemm narrow (lora shrink)",
            "lora decode, one launch", "lora shrink on chip", "lora shrink then fused", "lora staged rank",
            "lm head, padded", "cublas", "embedding plain w2", "embedding masked w16", "embedding bad-id flag",
            "argmax", "cast", "elementwise (silu·mul, add, bias, column scale)", "collective all-reduce, in process",
            "collective all-gather, in process", "nccl all-reduce", "lm-head loss tiles", "lm-head loss chunked");

    @Test
    void everyPathHasARowAndNoneFails() throws Exception {
        CliRun r = CliRun.tpk("verify", "--quick", "--json");
        JsonNode rows = new ObjectMapper().readTree(r.out());
        Set<String> paths = new HashSet<>();
        for (JsonNode row : rows) {
            paths.add(row.get("path").asText());
            String status = row.get("status").asText();
            assertFalse(status.equals("fail"), row.toString());
            if (status.equals("pass")) {
                assertTrue(row.get("pass").asBoolean(), row.toString());
                assertTrue(row.get("maxError").asDouble() <= row.get("tolerance").asDouble(), row.toString());
                assertTrue(row.get("kernel").asText().length() > 1, row.toString());
            }
        }
        assertTrue(paths.containsAll(PATHS), "missing: " + PATHS.stream().filter(p -> !paths.contains(p)).toList());
        assertEquals(0, r.exit(), r.err());
    }

    @Test
    void theTableSaysHowManyPathsWereChecked() {
        CliRun r = CliRun.tpk("verify", "--quick");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().strip().endsWith("none failed"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("pass") && l.contains("gemm mma.sync")), r.out());
    }
}
