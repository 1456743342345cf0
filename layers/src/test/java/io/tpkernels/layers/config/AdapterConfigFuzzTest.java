package io.tpkernels.layers.config;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * Coverage-guided fuzzing of the adapter-config reader ({@code adapter_config.json}; README, "Fuzzing"): whatever
 * the text, {@link AdapterConfig#parse} returns a config or throws an IllegalArgumentException, that class itself
 * (its subclasses InvalidPathException or NumberFormatException would be a value escaping unchecked). Nothing
 * else: no NullPointerException, no ClassCastException, no stack overflow. Without {@code JAZZER_FUZZ} the
 * committed inputs ({@code AdapterConfigFuzzTestInputs/parse/}) replay as regression tests.
 */
class AdapterConfigFuzzTest {

    @FuzzTest(maxDuration = "2m")
    void parse(byte[] input) {
        String json = new String(input, StandardCharsets.UTF_8);
        try {
            assertNotNull(AdapterConfig.parse(json, "adapter_config.json"));
        } catch (IllegalArgumentException e) {
            if (e.getClass() != IllegalArgumentException.class) {
                throw new AssertionError("not the documented IllegalArgumentException: " + e, e);
            }
        }
    }
}
