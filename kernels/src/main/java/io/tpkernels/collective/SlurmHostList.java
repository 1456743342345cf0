package io.tpkernels.collective;

/**
 * The first host of a Slurm host list ({@code SLURM_JOB_NODELIST} and its kin), where Slurm places task 0. Slurm
 * compresses the list: hosts are separated by commas, and brackets hold numbers and ranges, each written with the
 * digits of the host name, zero padding included ({@code node[003-010,015],gpu01} is node003 to node010, node015 and
 * gpu01). A host name may hold several bracket groups ({@code rack[1-2]-n[01-04]}), which Slurm expands in order,
 * so the first host takes the first number of each group.
 */
final class SlurmHostList {
    private SlurmHostList() {
    }

    /** The first host of {@code list}; a list that is not in Slurm's syntax is an {@link IllegalArgumentException}. */
    static String first(String list) {
        StringBuilder host = new StringBuilder();
        int i = 0;
        while (i < list.length() && list.charAt(i) != ',') {
            char c = list.charAt(i);
            if (c == ']') {
                throw notAHostList(list, "a ']' with no '[' before it");
            }
            if (c != '[') {
                host.append(c);
                i++;
                continue;
            }
            int close = list.indexOf(']', i);
            if (close < 0) {
                throw notAHostList(list, "a '[' with no ']' after it");
            }
            host.append(firstNumber(list, list.substring(i + 1, close)));
            i = close + 1;
        }
        if (host.isEmpty() || host.chars().anyMatch(Character::isWhitespace)) {
            throw notAHostList(list, "its first host is empty or holds white space");
        }
        return host.toString();
    }

    /** The first number of a bracket's contents ({@code 003-010,015} gives 003), as written. */
    private static String firstNumber(String list, String brackets) {
        int comma = brackets.indexOf(',');
        String element = comma < 0 ? brackets : brackets.substring(0, comma);
        int dash = element.indexOf('-');
        String low = dash < 0 ? element : element.substring(0, dash);
        String high = dash < 0 ? low : element.substring(dash + 1);
        if (!isDigits(low) || !isDigits(high)) {
            throw notAHostList(list, "\"[" + brackets + "]\" does not start with a number or a range of numbers");
        }
        return low;
    }

    private static boolean isDigits(String s) {
        return !s.isEmpty() && s.chars().allMatch(c -> c >= '0' && c <= '9');
    }

    private static IllegalArgumentException notAHostList(String list, String why) {
        return new IllegalArgumentException("\"" + list + "\" is not a Slurm host list: " + why);
    }
}
