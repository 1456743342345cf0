package io.tpkernels.testing;

import io.tpkernels.runtime.Tensor;

/** Output poisoning for kernel tests: every byte 0xFF, which is NaN in F32, F16 and BF16 and -1 in integers. */
public final class Poison {
    private Poison() {
    }

    /** Fills {@code t} with 0xFF bytes so that an element a kernel fails to write cannot pass as a value. */
    public static Tensor poison(Tensor t) {
        t.fillBytes((byte) 0xFF);
        return t;
    }
}
