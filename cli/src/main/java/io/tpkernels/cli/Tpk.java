package io.tpkernels.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine;

/** {@code tpk}: the command-line entry point. */
@Command(name = "tpk", mixinStandardHelpOptions = true, versionProvider = Tpk.Version.class,
        description = "Tensor-parallel GPU building blocks for LLMs: inspect, plan, run and benchmark.",
        subcommands = {InfoCommand.class, PlanCommand.class, ForwardCommand.class, FinetuneCommand.class, DemoCommand.class,
                BenchCommand.class, VerifyCommand.class, CommandLine.HelpCommand.class})
public final class Tpk implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Runs the command line and exits with its status. */
    public static void main(String[] args) {
        quietLibraryNotices();
        System.exit(commandLine().execute(args));
    }

    /**
     * The library logs, once, why no GPU is used (INFO) for applications that route System.Logger to their own
     * logging; the command line says so itself where it matters ({@code tpk info}, {@code --backend cuda}), so its
     * JVM shows the library's warnings only.
     */
    private static void quietLibraryNotices() {
        java.util.logging.Logger.getLogger("io.tpkernels").setLevel(java.util.logging.Level.WARNING);
    }

    /** The configured command line (for tests). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Tpk());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        HelpText.apply(cl);
        // Bad input is one line naming the problem and exit code 2, never a stack trace.
        cl.setParameterExceptionHandler((e, args) -> {
            CommandLine c = e.getCommandLine();
            c.getErr().println(prefix(c) + e.getMessage() + " (see --help)");
            c.getErr().flush();
            return USAGE_ERROR;
        });
        // Every numeric option is checked against its range before any command runs (OptionRanges).
        cl.setExecutionStrategy(parsed -> {
            Integer help = CommandLine.executeHelpRequest(parsed);
            if (help != null) {
                return help;
            }
            OptionRanges.check(parsed);
            return new CommandLine.RunLast().execute(parsed);
        });
        cl.setExecutionExceptionHandler((e, c, parsed) -> {
            if (e instanceof IllegalArgumentException) {
                c.getErr().println(prefix(c) + e.getMessage());
                c.getErr().flush();
                return USAGE_ERROR;
            }
            throw e;
        });
        return cl;
    }

    /**
     * "tpk plan: ", the one prefix of every message a command prints about itself; "tpk: " for the top level, whose
     * name is already "tpk".
     */
    static String prefix(CommandLine c) {
        return c.getCommandSpec().qualifiedName() + ": ";
    }

    /** {@link #prefix(CommandLine)} for the subcommand {@code command}. */
    static String prefix(String command) {
        return "tpk " + command + ": ";
    }

    /** Exit code for bad input. */
    static final int USAGE_ERROR = 2;

    /**
     * Reports bad input to a command: one line, {@code tpk <command>: <message>}, naming what was wrong; the stack
     * trace only with {@code --debug}. Returns {@link #USAGE_ERROR}.
     */
    static int badInput(String command, IllegalArgumentException e, java.io.PrintWriter err, boolean debug) {
        if (debug) {
            e.printStackTrace(err);
        }
        err.println(prefix(command) + e.getMessage());
        err.flush();
        return USAGE_ERROR;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The version for {@code --version}. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"tpkernels " + version()};
        }
    }

    /** The project version, filtered into {@code version.properties} at build time. */
    static String version() {
        try (var in = Tpk.class.getResourceAsStream("version.properties")) {
            var p = new java.util.Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "(development build)");
        } catch (java.io.IOException e) {
            return "(unknown version)";
        }
    }
}
