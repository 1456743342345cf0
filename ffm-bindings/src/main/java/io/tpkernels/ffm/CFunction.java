package io.tpkernels.ffm;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A native function's prototype in C terms: the exported symbol, its return type and its parameters.
 * It is the single source of a binding: the FFM descriptor is derived from it, and the signature test
 * compiles {@link #cPrototype(String)} against the vendor header.
 *
 * @param symbol    the exported symbol, the versioned one where the header renames it ({@code cuMemAlloc_v2})
 * @param returns   the return type
 * @param params    the parameter types, in order
 * @param fallbacks older exported names with the same ABI, tried in order when {@code symbol} is missing
 *                  (an older driver); never checked against the header
 */
public record CFunction(String symbol, CType returns, List<CType> params, List<String> fallbacks) {

    /**
     * Copies the lists and checks that no parameter is {@code void}.
     *
     * @param symbol the exported symbol
     * @param returns the return type
     * @param params the parameter types
     * @param fallbacks older exported names
     * @throws NullPointerException when the symbol or the return type is {@code null}
     * @throws IllegalArgumentException when a parameter is {@code void}
     */
    public CFunction {
        Objects.requireNonNull(symbol, "symbol");
        Objects.requireNonNull(returns, "returns");
        params = List.copyOf(params);
        fallbacks = List.copyOf(fallbacks);
        for (CType p : params) {
            if (p.isVoid()) {
                throw new IllegalArgumentException(symbol + ": a parameter cannot be void");
            }
        }
    }

    /**
     * {@code returns symbol(params...)}.
     *
     * @param symbol the exported symbol
     * @param returns the return type
     * @param params the parameter types
     * @return the prototype, with no fallbacks
     */
    public static CFunction of(String symbol, CType returns, CType... params) {
        return new CFunction(symbol, returns, List.of(params), List.of());
    }

    /**
     * The same prototype, also bound under {@code olderSymbols} when {@link #symbol()} is not exported.
     *
     * @param olderSymbols older exported names with the same ABI, in the order they are tried
     * @return a new prototype
     */
    public CFunction orOlder(String... olderSymbols) {
        return new CFunction(symbol, returns, params, List.of(olderSymbols));
    }

    /**
     * The FFM descriptor for a downcall to this function.
     *
     * @return the descriptor
     */
    public FunctionDescriptor descriptor() {
        MemoryLayout[] args = params.stream().map(CType::layout).toArray(MemoryLayout[]::new);
        return returns.isVoid() ? FunctionDescriptor.ofVoid(args) : FunctionDescriptor.of(returns.layout(), args);
    }

    /**
     * A C declaration of a pointer named {@code pointerName} of this function's type.
     *
     * @param pointerName the pointer's name
     * @return the declaration, as {@code CUresult (*p)(CUdeviceptr *, size_t)}
     */
    public String cPrototype(String pointerName) {
        String args = params.isEmpty() ? "void"
                : params.stream().map(CType::spelling).collect(Collectors.joining(", "));
        return returns.spelling() + " (*" + pointerName + ")(" + args + ")";
    }

    @Override
    public String toString() {
        return cPrototype(symbol).replace("(*" + symbol + ")", symbol);
    }
}
