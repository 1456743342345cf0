package io.tpkernels.cli;

import java.util.Map;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine;

/**
 * The range of every numeric option of every command, checked as soon as the command line is parsed, before the
 * command runs: a value outside it is exit code 2 and one line naming the option, its range and the value. Ranges
 * are wide enough for any real model and narrow enough that no value can ask for more memory or threads than a
 * machine has ({@code --vocab-multiple 2147483647} padded the vocabulary to two billion rows). An option of the same
 * name has the same range in every command. {@code OptionRangesTest} checks that every numeric option has one.
 */
final class OptionRanges {
    /** Tensor-parallel size: GPUs of one tensor-parallel group (ranks, as threads, in {@code tpk forward}). */
    static final int TP_MAX = 1024;
    /** Pipeline stages. */
    static final int PP_MAX = 1024;
    /** Ranks {@code tp·pp} that {@code tpk forward} runs as threads of one process. */
    static final int FORWARD_RANKS_MAX = 1024;
    /** The vocab padding multiple m (docs/contract.md section 2): 64 or 128 in practice. */
    static final int MULTIPLE_MAX = 65536;
    /** LoRA rank in {@code tpk plan} (0: none). */
    static final int LORA_RANK_MAX = io.tpkernels.ops.LoraLinear.MAX_RANK; // what an adapter may have
    /** Timed runs and warm-up runs of {@code tpk bench}. */
    static final int RUNS_MAX = 1_000_000;

    static final int SIZE_MAX = 1 << 24;
    static final int STEPS_MAX = 1_000_000_000;
    static final int SEED_MAX = 1_000_000_000;
    static final String SIZE_RANGE = "1 to " + SIZE_MAX;
    static final String TP_RANGE = "1 to " + TP_MAX;
    static final String PP_RANGE = "1 to " + PP_MAX;
    static final String MULTIPLE_RANGE = "1 to " + MULTIPLE_MAX;
    static final String LORA_RANK_RANGE = "0 to " + LORA_RANK_MAX;
    static final String WARMUP_RANGE = "0 to " + RUNS_MAX;

    /** An inclusive range. */
    record Range(long min, long max) {
        boolean contains(long value) {
            return value >= min && value <= max;
        }

        @Override
        public String toString() {
            return min + " to " + max;
        }
    }

    /** By option name. */
    static final Map<String, Range> RANGES = Map.ofEntries(
            Map.entry("--tp", new Range(1, TP_MAX)),
            Map.entry("--pp", new Range(1, PP_MAX)),
            Map.entry("--vocab-multiple", new Range(1, MULTIPLE_MAX)),
            Map.entry("--pad-multiple", new Range(1, MULTIPLE_MAX)),
            Map.entry("--lora-rank", new Range(0, LORA_RANK_MAX)),
            Map.entry("--runs", new Range(1, RUNS_MAX)),
            Map.entry("--warmup", new Range(0, RUNS_MAX)),
            Map.entry("--seq-len", new Range(1, SIZE_MAX)),
            Map.entry("--batch", new Range(1, SIZE_MAX)),
            Map.entry("--micro-batches", new Range(1, SIZE_MAX)),
            Map.entry("--steps", new Range(1, STEPS_MAX)),
            Map.entry("--seed", new Range(0, SEED_MAX)));

    /** Where a command's option of a shared name has its own range: "command --option". */
    static final Map<String, Range> BY_COMMAND = Map.of(
            "finetune --lora-rank", new Range(1, LORA_RANK_MAX));

    private OptionRanges() {
    }

    /** The range of the option {@code name}, or null if it is not numeric. */
    static Range of(String name) {
        return RANGES.get(name);
    }

    /** The range of {@code command}'s option {@code name}: its own, else the shared one; null if not numeric. */
    static Range of(String command, String name) {
        Range own = BY_COMMAND.get(command + " " + name);
        return own != null ? own : of(name);
    }

    /**
     * Checks the values of the command that is about to run, given or default.
     *
     * @throws CommandLine.ParameterException naming the option, its range and the value
     */
    static void check(ParseResult parsed) {
        ParseResult command = parsed;
        while (command.subcommand() != null) {
            command = command.subcommand();
        }
        for (OptionSpec option : command.commandSpec().options()) {
            Range range = of(command.commandSpec().name(), option.longestName());
            Object value = option.getValue();
            if (range != null && value instanceof Number n && !range.contains(n.longValue())) {
                throw new CommandLine.ParameterException(command.commandSpec().commandLine(), option.longestName()
                        + " must be " + range + ", got " + n, option, String.valueOf(n));
            }
        }
    }
}
