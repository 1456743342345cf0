package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Every numeric option of every command has a range (OptionRanges), documented in its help; a value outside it is
 * exit code 2 and one line naming the option, the range and the value, before the command does anything.
 */
class OptionRangesTest {
    @TempDir
    Path tmp;

    /** The arguments a command needs besides the option under test (files need not exist: nothing is read). */
    private static final Map<String, List<String>> REQUIRED = Map.of(
            "forward", List.of("--model", "no-such-model", "--tokens", "1", "--out", "out.safetensors"),
            "plan", List.of("--config", "no-such-config.json", "--tp", "1"),
            "bench", List.of(),
            "finetune", List.of("--model", "no-such-model", "--data", "no-such-ids.txt", "--seq-len", "1", "--batch",
                    "1", "--steps", "1", "--lr", "0.1", "--lora-rank", "1", "--out", "out.safetensors"));

    /**
     * Integral options: those ranges apply to. A floating option ({@code finetune --lr}, {@code --beta1}, ...) is
     * checked by its command, finite and in its interval, and tested there.
     */
    private static boolean isNumeric(OptionSpec option) {
        Class<?> type = option.type();
        return type == int.class || type == long.class || type == short.class || type == byte.class
                || type == Integer.class || type == Long.class;
    }

    /** Each numeric option of each command. */
    static Stream<Arguments> numericOptions() {
        List<Arguments> all = new ArrayList<>();
        Tpk.commandLine().getSubcommands().forEach((name, command) -> {
            for (OptionSpec option : command.getCommandSpec().options()) {
                if (isNumeric(option)) {
                    all.add(Arguments.of(name, option.longestName()));
                }
            }
        });
        return all.stream();
    }

    /** The discovery finds the options it should (a new numeric option then needs a range to pass the tests). */
    @Test
    void theNumericOptionsAreFound() {
        assertTrue(numericOptions().map(a -> a.get()[0] + " " + a.get()[1]).toList().containsAll(List.of(
                "bench --runs", "bench --warmup", "forward --tp", "forward --pp", "forward --vocab-multiple",
                "plan --tp", "plan --pp", "plan --pad-multiple", "plan --lora-rank")));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("numericOptions")
    void everyNumericOptionHasARangeItsHelpStates(String command, String option) {
        OptionRanges.Range range = OptionRanges.of(command, option);
        assertNotNull(range, command + " " + option + " has no range in OptionRanges");
        OptionSpec spec = Tpk.commandLine().getSubcommands().get(command).getCommandSpec().findOption(option);
        String help = String.join(" ", spec.description());
        assertTrue(help.contains(range.min() + " to " + range.max()) || help.contains("at most " + range.max()),
                command + " " + option + ": the help does not state the range " + range + ": " + help);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("numericOptions")
    void aValueOutsideTheRangeIsExitTwoAndOneLine(String command, String option) {
        OptionRanges.Range range = OptionRanges.of(command, option);
        for (long value : new long[] {range.min() - 1, range.max() + 1, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
            List<String> args = new ArrayList<>(List.of(command));
            args.addAll(REQUIRED.get(command).stream()
                    .map(a -> a.endsWith(".safetensors") ? tmp.resolve(a).toString() : a).toList());
            if (args.contains(option)) { // plan's required --tp: replace its value
                int at = args.indexOf(option);
                args.remove(at + 1);
                args.remove(at);
            }
            args.addAll(List.of(option, Long.toString(value)));
            CliRun run = CliRun.tpk(args.toArray(String[]::new));
            assertEquals(2, run.exit(), args + ": " + run.out() + run.err());
            assertEquals("tpk " + command + ": " + option + " must be " + range + ", got " + value + " (see --help)",
                    run.err().strip(), args.toString());
            assertFalse(Files.exists(tmp.resolve("out.safetensors")));
        }
    }

    @Test
    void theVocabMultipleOfTheIssueIsRefusedAndTheLargestAllowedRuns() throws Exception {
        var sizes = new DemoModelWriter.Sizes(101, 24, 48, 2, 4, 8, false);
        Path model = Files.createDirectories(tmp.resolve("model"));
        DemoModelWriter.writeModel(model, sizes, 7);
        Path out = tmp.resolve("out.safetensors");
        CliRun huge = CliRun.tpk("forward", "--model", model.toString(), "--tokens", "1,2", "--backend", "cpu",
                "--vocab-multiple", "2147483647", "--out", out.toString());
        assertEquals(2, huge.exit(), huge.err());
        assertEquals("tpk forward: --vocab-multiple must be 1 to 65536, got 2147483647 (see --help)", huge.err().strip());
        assertFalse(Files.exists(out));

        CliRun largest = CliRun.tpk("forward", "--model", model.toString(), "--tokens", "1,2", "--backend", "cpu",
                "--vocab-multiple", "" + OptionRanges.MULTIPLE_MAX, "--tp", "2", "--out", out.toString());
        assertEquals(0, largest.exit(), largest.err());
        assertTrue(Files.exists(out));
    }

    @Test
    void forwardRunsAtMostItsRanksInOneProcess() {
        Path out = tmp.resolve("out.safetensors");
        CliRun run = CliRun.tpk("forward", "--model", tmp.toString(), "--tokens", "1", "--tp", "64", "--pp", "32",
                "--out", out.toString());
        assertEquals(2, run.exit(), run.err());
        assertEquals("tpk forward: --tp 64 x --pp 32 is 2048 ranks; forward runs at most 1024 in one process",
                run.err().strip());
    }

    @Test
    void helpIsShownEvenWithAValueOutOfRange() {
        CliRun run = CliRun.tpk("plan", "--config", "c.json", "--tp", "0", "--help");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("tensor-parallel size, 1 to 1024"), run.out());
    }
}
