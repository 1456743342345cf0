package io.tpkernels.bench.cases;

/**
 * The ceilings measured in the run, and how close a result comes to them. A kernel of arithmetic intensity
 * {@code I} can at best reach {@code min(peak, I × bandwidth)} FLOP/s: below the ridge point it is bound by
 * the copy bandwidth, above it by the GEMM rate. For a data-movement kernel the percent is therefore its GB/s
 * against the copy's; for a large GEMM its FLOP/s against cuBLAS's (or the CPU GEMM's).
 *
 * @param copy the device-to-device copy, whose GB/s count bytes read plus written
 * @param gemm the GEMM rate, or {@code null} where none was measured (no cuBLAS): then only the bandwidth bounds
 */
record Roofline(Result copy, Result gemm) {

    /** Which ceiling bounds a result. */
    enum Bound { copy, gemm }

    double bandwidthGbPerS() {
        return copy.gbPerS();
    }

    /** The intensity where the bandwidth line meets the GEMM roof (FLOP/byte), or infinity without a roof. */
    double ridge() {
        return gemm == null ? Double.POSITIVE_INFINITY : gemm.flopPerS() / (bandwidthGbPerS() * 1e9);
    }

    Bound bound(Result r) {
        return r.intensity() < ridge() ? Bound.copy : Bound.gemm;
    }

    /** The best FLOP/s a kernel of this intensity can reach. */
    double attainableFlopPerS(double intensity) {
        double memoryBound = intensity * bandwidthGbPerS() * 1e9;
        return gemm == null ? memoryBound : Math.min(memoryBound, gemm.flopPerS());
    }

    /** What percent of the attainable rate {@code r} reached. */
    double percentOfCeiling(Result r) {
        return 100 * r.flopPerS() / attainableFlopPerS(r.intensity());
    }
}
