package io.tpkernels.bench.cases;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One measured row: a kernel on one shape, or one of the ceilings.
 *
 * <p>{@code bytes} is the least traffic the run needs (every input read once, every output written once);
 * {@code flops} counts 2 per multiply-add for the GEMMs, and one operation per element for the kernels that only
 * move data (a rounding in cast, a copied or zeroed element in the lookup, a comparison in argmax), which puts
 * them on the roofline at their true bytes per element, far left, under the bandwidth line.
 *
 * @param baselines the same work done another way, timed in the same run; the first is the one reported as
 *                  {@code baseline} and {@code ratio}
 * @param extras    a kernel's own measurements besides its time (the fused LM-head loss's peak memory), written
 *                  as fields of its JSON row after the common ones
 */
record Result(String kernel, Role role, Backend backend, String dtype, Shape shape, double medianMs, double bytes,
              double flops, List<Baseline> baselines, Map<String, Object> extras) {

    /** A kernel row, or a ceiling row (the copy bandwidth, the GEMM rate). */
    enum Role { kernel, ceiling }

    /** A baseline's median time. */
    record Baseline(String name, double medianMs) {
    }

    Result {
        baselines = List.copyOf(baselines);
        extras = Collections.unmodifiableMap(new LinkedHashMap<>(extras));
    }

    /** A row with no fields of its own beyond the common ones. */
    Result(String kernel, Role role, Backend backend, String dtype, Shape shape, double medianMs, double bytes,
           double flops, List<Baseline> baselines) {
        this(kernel, role, backend, dtype, shape, medianMs, bytes, flops, baselines, Map.of());
    }

    double gbPerS() {
        return bytes / (medianMs * 1e6);
    }

    double flopPerS() {
        return flops / (medianMs * 1e-3);
    }

    double gflopPerS() {
        return flopPerS() / 1e9;
    }

    /** Arithmetic intensity: FLOPs per byte of traffic. */
    double intensity() {
        return flops / bytes;
    }

    /** How many times faster than {@code baseline} this ran: above 1 is faster. */
    double speedupOver(Baseline baseline) {
        return baseline.medianMs() / medianMs;
    }
}
