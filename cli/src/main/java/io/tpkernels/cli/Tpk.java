package io.tpkernels.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code tpk}: the command-line entry point. */
@Command(name = "tpk", mixinStandardHelpOptions = true, versionProvider = Tpk.Version.class,
        description = "Tensor-parallel GPU building blocks for LLMs: inspect, plan, run and benchmark.",
        subcommands = {InfoCommand.class, CommandLine.HelpCommand.class})
public final class Tpk implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Runs the command line and exits with its status. */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line (for tests). */
    public static CommandLine commandLine() {
        return new CommandLine(new Tpk());
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
