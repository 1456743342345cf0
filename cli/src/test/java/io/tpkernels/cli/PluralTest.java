package io.tpkernels.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Counts in messages take the noun's number from the count. */
class PluralTest {

    @Test
    void oneIsSingularEverythingElsePlural() {
        assertEquals("1 rank", Plural.of(1, "rank"));
        assertEquals("0 ranks", Plural.of(0, "rank"));
        assertEquals("8 ranks", Plural.of(8, "rank"));
    }
}
