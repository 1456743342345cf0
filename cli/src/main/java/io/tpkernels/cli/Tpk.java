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

    /** The version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"tpkernels " + version()};
        }
    }

    /** The Implementation-Version of this jar's manifest (read directly: named modules do not expose it). */
    static String version() {
        try (var in = Tpk.class.getModule().getResourceAsStream("META-INF/MANIFEST.MF")) {
            String v = in == null ? null : new java.util.jar.Manifest(in).getMainAttributes()
                    .getValue(java.util.jar.Attributes.Name.IMPLEMENTATION_VERSION);
            return v == null ? "(development build)" : v;
        } catch (java.io.IOException e) {
            return "(unknown version)";
        }
    }
}
