package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.json.JsonObject;
import io.tpkernels.layers.json.JsonReader;
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
        Set<String> paths = new HashSet<>();
        for (JsonObject row : JsonReader.STRICT.read(r.out()).asArray("rows").objects()) {
            paths.add(row.getString("path"));
            String status = row.getString("status");
            assertFalse(status.equals("fail"), row.toString());
            if (status.equals("pass")) {
                assertTrue(row.getBoolean("pass"), row.toString());
                assertTrue(row.getDouble("maxError") <= row.getDouble("tolerance"), row.toString());
                assertTrue(row.getString("kernel").length() > 1, row.toString());
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
