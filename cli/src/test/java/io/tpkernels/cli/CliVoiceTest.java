package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line speaks with one voice: one prefix, counts in the right number, no parser's words, whole help. */
class CliVoiceTest {

    @TempDir
    Path tmp;

    private static final List<String> COMMANDS =
            List.of("info", "plan", "forward", "finetune", "demo", "bench", "verify", "help");

    @Test
    void theTopLevelSaysTpkOnce() {
        CliRun r = CliRun.tpk("--no-such-option");
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("tpk: Unknown option: '--no-such-option'"), r.err());
        assertFalse(r.err().contains("tpk tpk"), r.err());
    }

    @Test
    void aSubcommandIsNamedAfterTpk() {
        CliRun r = CliRun.tpk("plan", "--tp", "1");
        assertTrue(r.err().startsWith("tpk plan: "), r.err());
    }

    @Test
    void oneLayerIsSingular() throws Exception {
        Path config = Files.writeString(tmp.resolve("config.json"), """
                {"vocab_size": 1000, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1,
                 "num_attention_heads": 1, "num_key_value_heads": 1}""");
        CliRun table = CliRun.tpk("plan", "--config", config.toString(), "--tp", "1");
        assertTrue(table.out().contains(", 1 layer, 1 head (1 kv"), table.out());
        CliRun tooMany = CliRun.tpk("plan", "--config", config.toString(), "--tp", "1", "--pp", "2");
        assertTrue(tooMany.err().contains("1 layer cannot fill 2 pipeline stages"), tooMany.err());
        CliRun sum = CliRun.tpk("plan", "--config", config.toString(), "--tp", "1", "--pp", "1", "--partition", "2");
        assertTrue(sum.err().contains("sums to 2 layers, not 1"), sum.err());
    }

    @Test
    void brokenJsonIsDescribedWithoutTheParsersWords() throws Exception {
        Path broken = Files.writeString(tmp.resolve("broken.json"), "{\"vocab_size\": 10 \"hidden_size\": 4}");
        CliRun r = CliRun.tpk("plan", "--config", broken.toString(), "--tp", "1");
        assertEquals(2, r.exit());
        assertEquals("tpk plan: " + broken + " is not valid JSON: line 1, column 19: expected ',' or '}', found '\"'",
                r.err().strip());
    }

    @Test
    void helpFitsItsWidthAndNothingIsCutShort() {
        Pattern capitalisedOption = Pattern.compile("^ {2}(-\\w, )? *--\\S+ +[A-Z][a-z]*[ ,.]", Pattern.MULTILINE);
        CliRun top = CliRun.tpk("--help");
        for (String line : top.out().lines().toList()) {
            assertFalse(line.endsWith(":") && line.startsWith("  "), "a summary cut at its colon: " + line);
        }
        for (String command : COMMANDS) {
            String help = CliRun.tpk(command, "--help").out();
            assertTrue(help.contains("Usage: tpk " + command), help);
            for (String line : help.lines().toList()) {
                assertTrue(line.length() <= HelpText.WIDTH, command + ": " + line.length() + " > " + HelpText.WIDTH
                        + ": " + line);
            }
            assertFalse(capitalisedOption.matcher(help).find(), command + ": an option in another voice:\n" + help);
            assertFalse(help.contains("Show this help message"), help);
        }
    }
}
