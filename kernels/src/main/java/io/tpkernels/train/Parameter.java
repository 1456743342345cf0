package io.tpkernels.train;

import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * One trained tensor as a rank holds it: its F32 master value, its F32 gradient of the same shape, and how the
 * tensor-parallel group holds it. The tensors belong to the caller; the optimizer updates them in place.
 *
 * @param name      the parameter's name, for messages
 * @param value     the F32 master weights, updated in place by {@link AdamW#step}
 * @param grad      the F32 gradient, same shape and device; scaled in place by {@link GradClipping#clip}
 * @param placement replicated on every rank, or sharded across them
 */
public record Parameter(String name, Tensor value, Tensor grad, Placement placement) {

    /** Checks that value and gradient are F32 tensors of one shape on one device. */
    public Parameter {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(placement, "placement");
        if (value.dtype() != DType.F32 || grad.dtype() != DType.F32 || !Arrays.equals(value.shape(), grad.shape())
                || !value.device().equals(grad.device())) {
            throw new IllegalArgumentException("parameter " + name + ": value and gradient must be F32 of one shape on"
                    + " one device (master weights are F32), got " + value.describe() + " and " + grad.describe());
        }
    }
}
