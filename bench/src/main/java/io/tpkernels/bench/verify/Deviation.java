package io.tpkernels.bench.verify;

import io.tpkernels.runtime.DType;

/** How far a device result is from the CPU reference, and how far each dtype may be. */
final class Deviation {
    private Deviation() {
    }

    /**
     * {@code max |got − want| / max |want|} over all elements (the reference's largest magnitude, at least 1e-30, so
     * that sums of different order compare at the scale of the result): NaN where {@code got} has a NaN
     * {@code want} does not, infinite where the shapes differ or an infinity is misplaced.
     */
    static double relative(float[] want, float[] got) {
        if (want.length != got.length) {
            return Double.POSITIVE_INFINITY;
        }
        double scale = 1e-30;
        for (float w : want) {
            if (Float.isFinite(w)) {
                scale = Math.max(scale, Math.abs(w));
            }
        }
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            float w = want[i];
            float g = got[i];
            if (Float.isNaN(w) || Float.isNaN(g)) {
                if (Float.isNaN(w) != Float.isNaN(g)) {
                    return Double.NaN;
                }
                continue;
            }
            if (Float.isInfinite(w) || Float.isInfinite(g)) {
                if (w != g) {
                    return Double.POSITIVE_INFINITY;
                }
                continue;
            }
            worst = Math.max(worst, Math.abs((double) g - w) / scale);
        }
        return worst;
    }

    /**
     * What a result in {@code dtype} may deviate, relative to its largest magnitude: a few roundings of the dtype
     * (F32 1e-5, F16 2e-3, BF16 1e-2); exact copies pass 0.
     */
    static double tolerance(DType dtype) {
        return switch (dtype) {
            case F32 -> 1e-5;
            case F16 -> 2e-3;
            case BF16 -> 1e-2;
            default -> 0;
        };
    }
}
