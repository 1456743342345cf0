package io.tpkernels.layers;

import io.tpkernels.runtime.DType;

/**
 * The float type a layer stores its weights in and computes with (accumulation is always f32). There is
 * deliberately no quantized member: a layer that takes a {@code Precision}, such as {@link ParallelLMHead},
 * cannot be quantized by any setting, because no value of this type means "quantized".
 */
public enum Precision {
    /** IEEE binary32. */
    F32(DType.F32),
    /** IEEE binary16. */
    F16(DType.F16),
    /** bfloat16. */
    BF16(DType.BF16);

    private final DType dtype;

    Precision(DType dtype) {
        this.dtype = dtype;
    }

    /**
     * The tensor dtype.
     *
     * @return {@link DType#F32}, {@link DType#F16} or {@link DType#BF16}
     */
    public DType dtype() {
        return dtype;
    }
}
