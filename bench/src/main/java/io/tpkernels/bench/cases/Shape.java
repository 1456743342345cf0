package io.tpkernels.bench.cases;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/** A measured shape: named sizes in a fixed order ({@code M, N, K} for GEMM-like kernels, {@code T, H} for lookups). */
record Shape(Map<String, Long> sizes) {

    Shape {
        sizes = Collections.unmodifiableMap(new LinkedHashMap<>(sizes));
    }

    static Shape of(String name, long size) {
        return new Shape(Map.of(name, size));
    }

    /** This shape with one more size. */
    Shape and(String name, long size) {
        Map<String, Long> more = new LinkedHashMap<>(sizes);
        more.put(name, size);
        return new Shape(more);
    }

    /** The first size alone, {@code "M=1"}: what tells a kernel's shapes apart on a chart. */
    String leading() {
        return sizes.entrySet().stream().findFirst().map(e -> e.getKey() + "=" + e.getValue()).orElse("");
    }

    /** {@code "M=1 N=15808 K=8192"}. */
    @Override
    public String toString() {
        return sizes.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
    }
}
