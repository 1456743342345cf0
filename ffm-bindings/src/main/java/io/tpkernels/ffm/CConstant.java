package io.tpkernels.ffm;

/**
 * A numeric constant a binding relies on (an enum member or a {@code #define}), by its C name. The
 * signature test checks each value against the vendor header.
 *
 * @param name  the C name ({@code CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT})
 * @param value its value
 */
public record CConstant(String name, int value) {
}
