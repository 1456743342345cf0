package io.tpkernels.cli;

import java.util.ListResourceBundle;
import picocli.CommandLine;

/**
 * The help's layout and the words picocli supplies itself, in the voice of the rest: option descriptions in lower
 * case without a full stop, lines wrapped at the terminal's width (at most {@link #WIDTH} where there is none) rather
 * than cut, and a column wide enough that the usual long option stays on its description's line.
 */
final class HelpText {
    private HelpText() {
    }

    /** The usage width when no terminal says otherwise. */
    static final int WIDTH = 100;

    /** The widest option, with its label, that keeps its description on the same line. */
    static final int OPTION_COLUMN = 32;

    static void apply(CommandLine cl) {
        cl.setUsageHelpWidth(WIDTH);
        cl.setUsageHelpAutoWidth(true);
        cl.setUsageHelpLongOptionsMaxWidth(OPTION_COLUMN);
        cl.setResourceBundle(new Words());
        CommandLine help = cl.getSubcommands().get("help");
        if (help != null) {
            // The help command's header is its line in the command list.
            help.getCommandSpec().usageMessage().header("Show the help of a command.")
                    .description("Without a command, the help of tpk itself.");
        }
    }

    /** picocli's own texts, looked up by the keys of its standard options and its help command. */
    static final class Words extends ListResourceBundle {
        @Override
        protected Object[][] getContents() {
            return new Object[][] {
                    {"mixinStandardHelpOptions.help", "show this help and exit"},
                    {"mixinStandardHelpOptions.version", "print the version and exit"},
                    {"helpCommand.help", "show the help of the help command and exit"},
                    {"helpCommand.command", "the command to show the help of"},
            };
        }
    }
}
