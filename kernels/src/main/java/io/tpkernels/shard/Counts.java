package io.tpkernels.shard;

/** A count with its noun for messages, singular for one: "1 layer", "2 layers". */
final class Counts {
    private Counts() {
    }

    static String of(long n, String noun) {
        return of(n, noun, noun + "s");
    }

    static String of(long n, String singular, String plural) {
        return n + " " + (n == 1 ? singular : plural);
    }
}
