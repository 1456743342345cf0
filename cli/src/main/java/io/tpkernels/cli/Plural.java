package io.tpkernels.cli;

/** A count with its noun, singular for one: "1 rank", "2 ranks". */
final class Plural {
    private Plural() {
    }

    /** {@code n} and {@code noun}, with an "s" unless {@code n} is 1. */
    static String of(long n, String noun) {
        return n + " " + (n == 1 ? noun : noun + "s");
    }
}
