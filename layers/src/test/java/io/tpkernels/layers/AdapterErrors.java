package io.tpkernels.layers;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.weights.WeightException;
import io.tpkernels.runtime.Device;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/** Runs an adapter load that must fail on every rank, and checks what each rank's error says (issue 8). */
public final class AdapterErrors {
    private AdapterErrors() {
    }

    /** Something that loads on one rank. */
    @FunctionalInterface
    public interface Load {
        AutoCloseable run(RankContext ctx) throws Exception;
    }

    /** Each rank's {@link WeightException} message from {@code load} on {@code tp} CPU ranks, in rank order. */
    public static List<String> messages(int tp, Load load) {
        return Harness.onRanks(tp, Device.CPU, Precision.F32,
                ctx -> assertThrows(WeightException.class, () -> load.run(ctx).close(), "rank " + ctx.rank()).getMessage());
    }

    /**
     * Asserts that each rank's message names {@code tensor}, its shape {@code got}, tp, and that rank's number (and
     * no other rank's), and that it says each of {@code expected} (the shapes it should have had).
     */
    public static void assertNamed(List<String> messages, String tensor, long[] got, String... expected) {
        int tp = messages.size();
        for (int rank = 0; rank < tp; rank++) {
            String m = messages.get(rank);
            assertTrue(m.contains("tensor " + tensor + " "), "the tensor: " + m);
            assertTrue(m.contains(Arrays.toString(got)), "its shape " + Arrays.toString(got) + ": " + m);
            assertTrue(m.contains("tp " + tp), "tp " + tp + ": " + m);
            for (int other = 0; other < tp; other++) {
                boolean named = Pattern.compile("\\brank " + other + "\\b").matcher(m).find();
                if (other == rank) {
                    assertTrue(named, "rank " + rank + " names itself: " + m);
                } else {
                    assertFalse(named, "rank " + rank + " names rank " + other + ": " + m);
                }
            }
            for (String s : expected) {
                assertTrue(m.contains(s), "the expected " + s + " in: " + m);
            }
        }
    }
}
