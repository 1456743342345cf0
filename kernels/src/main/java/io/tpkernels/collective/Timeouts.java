package io.tpkernels.collective;

import java.time.Duration;
import java.util.Objects;

/** The one rule for a group's timeout: a positive duration (zero or less would fail every wait at once). */
final class Timeouts {
    private Timeouts() {
    }

    static Duration requirePositive(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isZero() || timeout.isNegative()) {
            throw new IllegalArgumentException("a group's timeout must be positive, got " + timeout);
        }
        return timeout;
    }
}
