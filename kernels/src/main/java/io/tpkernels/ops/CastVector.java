package io.tpkernels.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The BF16 loops of {@link CastCpu} with the Vector API, because C2 does not vectorise them by itself (it
 * does the F16 ones): {@link io.tpkernels.runtime.DType#floatToBf16Bits} and its inverse done on the float's
 * bits a vector at a time, the scalar loop for the tail. Loaded only when {@code jdk.incubator.vector} is in
 * the boot layer ({@link CastCpu#VECTOR_API}).
 */
final class CastVector {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    /** As many shorts as {@link #F} has floats: half the bits. */
    private static final VectorSpecies<Short> S =
            VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));

    private CastVector() {
    }

    static void floatsToBf16(float[] in, short[] out, int n) {
        int j = 0;
        for (int upper = F.loopBound(n); j < upper; j += F.length()) {
            IntVector bits = FloatVector.fromArray(F, in, j).reinterpretAsInts();
            IntVector high = bits.lanewise(VectorOperators.LSHR, 16);
            // Round to nearest even: add 0x7FFF plus the result's last bit, keep the top half.
            IntVector rounded = bits.add(high.and(1).add(0x7FFF)).lanewise(VectorOperators.LSHR, 16);
            // NaN: the top half with the quiet bit set, so truncation cannot make it an infinity.
            VectorMask<Integer> nan = bits.and(0x7FFF_FFFF).compare(VectorOperators.GT, 0x7F80_0000);
            IntVector result = rounded.blend(high.or(0x0040), nan);
            ((ShortVector) result.convertShape(VectorOperators.I2S, S, 0)).intoArray(out, j);
        }
        CastCpu.floatsToBf16(in, out, j, n); // the tail
    }

    static void bf16ToFloats(short[] in, float[] out, int n) {
        int j = 0;
        for (int upper = F.loopBound(n); j < upper; j += F.length()) {
            // S2I sign-extends; the shift pushes the extension out, leaving (bits & 0xFFFF) << 16.
            IntVector wide = (IntVector) ShortVector.fromArray(S, in, j).convertShape(VectorOperators.S2I, I, 0);
            wide.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(out, j);
        }
        CastCpu.bf16ToFloats(in, out, j, n); // the tail
    }
}
