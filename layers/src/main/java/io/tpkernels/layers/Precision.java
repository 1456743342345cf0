package io.tpkernels.layers;

import io.tpkernels.runtime.DType;

/**
 * The float type a layer stores its weights in and computes with (accumulation is always f32). There is
 * deliberately no quantized member: a layer that takes a {@code Precision}, such as {@link ParallelLMHead},
 * cannot be quantized by any setting, because no value of this type means "quantized".
 */
public enum Precision {
    F32(DType.F32), F16(DType.F16), BF16(DType.BF16);

    private final DType dtype;

    Precision(DType dtype) {
        this.dtype = dtype;
    }

    /** The tensor dtype. */
    public DType dtype() {
        return dtype;
    }
}
