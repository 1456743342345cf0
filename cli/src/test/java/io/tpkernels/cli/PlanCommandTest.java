package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.json.JsonArray;
import io.tpkernels.layers.json.JsonObject;
import io.tpkernels.layers.json.JsonReader;
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
        JsonObject j = plan(r.out());
        assertEquals("unnamed (LLaMA-style)", j.getString("architecture"));
        assertEquals(128256, j.getLong("vocabSize"));
        assertEquals(8_030_261_248L, j.getLong("totalParams"), "the whole model, unsharded");
        assertEquals(2 * 8_030_261_248L, j.getLong("totalBytes"));
        assertEquals("BF16", j.getString("dtype"));
        assertTrue(j.get("quantization").isNull() && j.getArray("notes").isEmpty());
        assertEquals(128512, j.getLong("paddedVocabSize"));
        assertEquals(8, j.getInt("tp"));
        assertEquals(3, j.getInt("pp"));
        JsonArray stages = j.getArray("stages");
        assertEquals(3, stages.size());
        assertEquals(0, stages.getObject(0).getInt("firstLayer"));
        assertEquals(11, stages.getObject(0).getInt("endLayer"));
        assertTrue(stages.getObject(0).getBoolean("embedding") && !stages.getObject(0).getBoolean("lmHead"));
        assertTrue(stages.getObject(2).getBoolean("lmHead"));
        assertEquals(2 * stages.getObject(1).getLong("paramsPerRank"), stages.getObject(1).getLong("bytesPerRank"));
        JsonObject last = j.getArray("vocabShards").getObject(7);
        assertEquals(112448, last.getLong("start"));
        assertEquals(128512, last.getLong("end"));
        assertEquals(15808, last.getLong("validRows"));
        assertEquals(256, last.getLong("paddingRows"));
    }

    @Test
    void theTableShowsStagesShardsAndImbalance() {
        CliRun r = tpk("plan", "--config", llama.toString(), "--tp", "8", "--pp", "3");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("[0, 11)") && r.out().contains("[22, 32)"), r.out());
        assertTrue(r.out().contains("imbalance 1.219"), r.out());
        assertTrue(r.out().contains("112448") && r.out().contains("15808"), r.out());
        assertTrue(r.out().contains("total   8,030,261,248 parameters, 14.96 GiB (the whole model, unsharded)"), r.out());
    }

    /** The plan {@code tpk plan --json} printed. */
    private static JsonObject plan(String out) {
        return JsonReader.STRICT.read(out).asObject("plan");
    }

    private Path published(String name) throws Exception {
        try (var in = PlanCommandTest.class.getResourceAsStream("/configs/" + name)) {
            return Files.write(tmp.resolve(name), in.readAllBytes());
        }
    }

    @Test
    void deepSeekV3IsCountedWithMlaExpertsAndFp8AndSaysWhatItLeavesOut() throws Exception {
        Path v3 = published("deepseek-v3.json");
        CliRun r = tpk("plan", "--config", v3.toString(), "--tp", "1", "--pp", "8", "--remainder", "last");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("model   deepseek_v3: vocab 129,280, hidden 7,168, 61 layers, MLA with 128 heads "
                + "(q_lora_rank 1536, kv_lora_rank 512); 58 MoE layers of 256 experts x 2,048 + shared 2,048, 3 dense "
                + "of intermediate 18,432"), r.out());
        assertTrue(r.out().contains("fp8 (128x128 blocks, F32 scales), the rest BF16"), r.out());
        assertTrue(r.out().contains("total   671,026,419,200 parameters"), r.out());
        assertTrue(r.out().contains("note    multi-token-prediction layers (num_nextn_predict_layers 1) are not "
                + "counted"), r.out());
        assertTrue(r.out().contains("[53, 61)          8  -         yes       92,984,976,384    87.50 GiB"), r.out());

        JsonObject j = plan(tpk("plan", "--config", v3.toString(), "--tp", "8", "--pp", "8", "--json").out());
        assertEquals("deepseek_v3", j.getString("architecture"));
        assertEquals(671_026_419_200L, j.getLong("totalParams"), "unsharded whatever tp and pp");
        assertEquals(128, j.getObject("quantization").getArray("weightBlockSize").getInt(0));
        assertEquals("BF16", j.getString("dtype"), "the config's torch_dtype");
        assertEquals(1, j.getArray("notes").size());
        long perRank = 0;
        for (JsonObject stage : j.getArray("stages").objects()) {
            perRank += stage.getLong("paramsPerRank");
        }
        assertTrue(perRank * 8 > 671_026_419_200L && perRank * 6 < 671_026_419_200L,
                "tp 8 splits almost everything: " + perRank);
    }

    @Test
    void theConfigsDtypeIsTheDefaultAndDtypeOverridesIt() throws Exception {
        Path f32 = Files.writeString(tmp.resolve("f32.json"), """
                {"model_type": "qwen2", "vocab_size": 1000, "hidden_size": 64, "intermediate_size": 128,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "torch_dtype": "float32"}""");
        JsonObject auto = plan(tpk("plan", "--config", f32.toString(), "--tp", "1", "--json").out());
        assertEquals("F32", auto.getString("dtype"));
        assertEquals(4 * auto.getLong("totalParams"), auto.getLong("totalBytes"));
        JsonObject bf16 = plan(tpk("plan", "--config", f32.toString(), "--tp", "1", "--dtype", "bf16", "--json").out());
        assertEquals(2 * bf16.getLong("totalParams"), bf16.getLong("totalBytes"));
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
        JsonArray s = plan(r.out()).getArray("stages");
        assertEquals(20, s.getObject(0).getInt("layers"));
        assertEquals(4 * s.getObject(0).getLong("paramsPerRank"), s.getObject(0).getLong("bytesPerRank"));
        CliRun last = tpk("plan", "--config", llama.toString(), "--tp", "1", "--pp", "5", "--remainder", "last", "--json");
        assertEquals(7, plan(last.out()).getArray("stages").getObject(4).getInt("layers"));
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
        assertBadInput("tp 64 does not divide num_attention_heads 32", "plan", "--config", llama.toString(), "--tp", "64");
        assertBadInput("sums to 31 layers, not 32", "plan", "--config", llama.toString(), "--tp", "1", "--pp", "2",
                "--partition", "16,15");
        assertBadInput("--tp", "plan", "--config", llama.toString());
        assertBadInput("Invalid value", "plan", "--config", llama.toString(), "--tp", "2", "--balance", "bytes");
    }

    @Test
    void whatThePlanDoesNotModelIsExitCodeTwoNamingTheFileTheKeyAndTheValue() throws Exception {
        Path gemma = Files.writeString(tmp.resolve("gemma.json"), """
                {"architectures": ["Gemma2ForCausalLM"], "model_type": "gemma2", "vocab_size": 256000,
                 "hidden_size": 2304, "intermediate_size": 9216, "num_hidden_layers": 26, "num_attention_heads": 8}""");
        assertBadInput(gemma + ": architectures names \"Gemma2ForCausalLM\", which tpk plan does not count", "plan",
                "--config", gemma.toString(), "--tp", "1");
        Path unnamedMoe = Files.writeString(tmp.resolve("moe.json"), """
                {"vocab_size": 1000, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                 "num_attention_heads": 4, "n_routed_experts": 64}""");
        assertBadInput(unnamedMoe + ": n_routed_experts (64) changes the parameter count, but the config names no "
                + "architecture", "plan", "--config", unnamedMoe.toString(), "--tp", "1");
        Path awq = Files.writeString(tmp.resolve("awq.json"), """
                {"model_type": "mixtral", "vocab_size": 1000, "hidden_size": 64, "intermediate_size": 128,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "num_local_experts": 8,
                 "quantization_config": {"quant_method": "awq", "bits": 4}}""");
        assertBadInput(awq + ": quantization_config.quant_method \"awq\" is not modelled", "plan", "--config",
                awq.toString(), "--tp", "1");
        assertBadInput("--lora-rank is counted for dense models only", "plan", "--config",
                published("mixtral-8x7b.json").toString(), "--tp", "1", "--lora-rank", "8");
        assertBadInput("tp 512 does not divide moe_intermediate_size 768", "plan", "--config",
                published("qwen3-30b-a3b.json").toString(), "--tp", "512");
    }

    @Test
    void debugShowsTheStackTrace() throws Exception {
        Path gemma = Files.writeString(tmp.resolve("gemma.json"), "{\"model_type\": \"gemma\"}");
        CliRun r = tpk("plan", "--config", gemma.toString(), "--tp", "1", "--debug");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("\tat ") && r.err().contains("model_type \"gemma\""), r.err());
    }
}
