package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tpk plan} run as a user runs it: arguments in, text or JSON and an exit code out. */
class PlanCommandTest {

    @TempDir
    Path tmp;
    private Path llama;

    private static CliRun tpk(String... args) {
        return CliRun.tpk(args);
    }

    @BeforeEach
    void writeConfig() throws Exception {
        llama = Files.writeString(tmp.resolve("config.json"), """
                {"vocab_size": 128256, "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
                 "num_attention_heads": 32, "num_key_value_heads": 8, "tie_word_embeddings": false, "rope_theta": 5e5}""");
    }

    @Test
    void jsonHasTheDocumentedShape() throws Exception {
        CliRun r = tpk("plan", "--config", llama.toString(), "--tp", "8", "--pp", "3", "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals(128256, j.get("vocabSize").asLong());
        assertEquals(128512, j.get("paddedVocabSize").asLong());
        assertEquals(8, j.get("tp").asInt());
        assertEquals(3, j.get("pp").asInt());
        JsonNode stages = j.get("stages");
        assertEquals(3, stages.size());
        assertEquals(0, stages.get(0).get("firstLayer").asInt());
        assertEquals(11, stages.get(0).get("endLayer").asInt());
        assertTrue(stages.get(0).get("embedding").asBoolean() && !stages.get(0).get("lmHead").asBoolean());
        assertTrue(stages.get(2).get("lmHead").asBoolean());
        assertEquals(2 * stages.get(1).get("paramsPerRank").asLong(), stages.get(1).get("bytesPerRank").asLong());
        JsonNode last = j.get("vocabShards").get(7);
        assertEquals(112448, last.get("start").asLong());
        assertEquals(128512, last.get("end").asLong());
        assertEquals(15808, last.get("validRows").asLong());
        assertEquals(256, last.get("paddingRows").asLong());
    }

    @Test
    void theTableShowsStagesShardsAndImbalance() {
        CliRun r = tpk("plan", "--config", llama.toString(), "--tp", "8", "--pp", "3");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("[0, 11)") && r.out().contains("[22, 32)"), r.out());
        assertTrue(r.out().contains("imbalance 1.219"), r.out());
        assertTrue(r.out().contains("112448") && r.out().contains("15808"), r.out());
    }

    @Test
    void memoryBalanceSaysWhatItSaves() {
        CliRun r = tpk("plan", "--config", llama.toString(), "--tp", "8", "--pp", "3", "--balance", "memory");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("[0, 10)") && r.out().contains("[10, 22)"), r.out());
        assertTrue(r.out().contains("with --balance layers: saves 52.01 MiB (7.5%)"), r.out());
    }

    @Test
    void explicitPartitionRemainderAndDtypeAreHonoured() throws Exception {
        CliRun r = tpk("plan", "--config", llama.toString(), "--tp", "2", "--pp", "2", "--partition", "20,12",
                "--dtype", "f32", "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode s = new ObjectMapper().readTree(r.out()).get("stages");
        assertEquals(20, s.get(0).get("layers").asInt());
        assertEquals(4 * s.get(0).get("paramsPerRank").asLong(), s.get(0).get("bytesPerRank").asLong());
        CliRun last = tpk("plan", "--config", llama.toString(), "--tp", "1", "--pp", "5", "--remainder", "last", "--json");
        assertEquals(7, new ObjectMapper().readTree(last.out()).get("stages").get(4).get("layers").asInt());
    }

    private void assertBadInput(String expected, String... args) {
        CliRun r = tpk(args);
        assertEquals(2, r.exit(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertTrue(!r.err().contains("Exception") && !r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    @Test
    void badInputIsExitCodeTwoAndOneLine() throws Exception {
        assertBadInput("does not exist", "plan", "--config", tmp.resolve("missing.json").toString(), "--tp", "2");
        Path broken = Files.writeString(tmp.resolve("broken.json"), "{\"vocab_size\": ");
        assertBadInput("is not valid JSON", "plan", "--config", broken.toString(), "--tp", "2");
        Path noHidden = Files.writeString(tmp.resolve("nohidden.json"),
                "{\"vocab_size\": 10, \"intermediate_size\": 8, \"num_hidden_layers\": 2}");
        assertBadInput("hidden_size is missing", "plan", "--config", noHidden.toString(), "--tp", "2");
        Path negative = Files.writeString(tmp.resolve("neg.json"),
                "{\"vocab_size\": 10, \"hidden_size\": -4, \"intermediate_size\": 8, \"num_hidden_layers\": 2}");
        assertBadInput("hidden_size must be a positive integer, got -4", "plan", "--config", negative.toString(), "--tp", "2");
        assertBadInput("tp 3 does not divide hidden_size 4096", "plan", "--config", llama.toString(), "--tp", "3");
        assertBadInput("tp 16 does not divide num_key_value_heads 8", "plan", "--config", llama.toString(), "--tp", "16");
        assertBadInput("sums to 31 layers, not 32", "plan", "--config", llama.toString(), "--tp", "1", "--pp", "2",
                "--partition", "16,15");
        assertBadInput("--tp", "plan", "--config", llama.toString());
        assertBadInput("Invalid value", "plan", "--config", llama.toString(), "--tp", "2", "--balance", "bytes");
    }
}
