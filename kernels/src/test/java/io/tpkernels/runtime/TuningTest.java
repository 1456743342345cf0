package io.tpkernels.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The tuning record: the tpk.* properties it reads, once, and contexts that carry different ones side by side. */
class TuningTest {

    private static Tuning parse(Map<String, String> properties) {
        return Tuning.fromProperties(properties::get);
    }

    @Test
    void withoutPropertiesTheDefaultsHold() {
        Tuning t = parse(Map.of());
        assertEquals(Tuning.defaults(), t);
        assertEquals(Tuning.HopperGemm.V1, t.hopperGemm());
        assertEquals(Tuning.LoraShrink.AUTO, t.loraShrink());
        assertEquals(Tuning.LmHeadBackend.KERNEL, t.lmHeadBackend());
        assertEquals(Tuning.PtxSource.PACKAGED, t.ptxSource());
        assertEquals(false, t.collectiveChecks());
        assertEquals(true, t.selfCheck());
    }

    @Test
    void eachPropertySetsItsChoiceWhateverItsCaseAndSpaces() {
        Tuning t = parse(Map.of("tpk.gemm.hopper", "PingPong", "tpk.lora.shrink", " on-chip", "tpk.lmhead.backend",
                "cuBLAS", "tpk.ptx.source", "nvrtc", "tpk.collective.checks", "TRUE", "tpk.selfcheck", "false"));
        assertEquals(new Tuning(Tuning.HopperGemm.PINGPONG, Tuning.LoraShrink.ON_CHIP, Tuning.LmHeadBackend.CUBLAS,
                Tuning.PtxSource.NVRTC, true, false), t);
        assertEquals(Tuning.HopperGemm.OFF, parse(Map.of("tpk.gemm.hopper", "false")).hopperGemm());
        assertEquals(Tuning.HopperGemm.V1, parse(Map.of("tpk.gemm.hopper", "true")).hopperGemm());
        assertEquals(Tuning.LoraShrink.SEPARATE, parse(Map.of("tpk.lora.shrink", "separate")).loraShrink());
        assertEquals(Tuning.LmHeadBackend.AUTO, parse(Map.of("tpk.lmhead.backend", "auto")).lmHeadBackend());
        assertEquals(Tuning.PtxSource.PTX, parse(Map.of("tpk.ptx.source", "PTX")).ptxSource());
    }

    @Test
    void aBadValueNamesThePropertyAndWhatItTakes() {
        assertEquals("tpk.gemm.hopper=v3: expected v1, pingpong or false", assertThrows(IllegalArgumentException.class,
                () -> parse(Map.of("tpk.gemm.hopper", "v3"))).getMessage());
        assertEquals("tpk.lora.shrink=fused: expected auto, on-chip or separate",
                assertThrows(IllegalArgumentException.class, () -> parse(Map.of("tpk.lora.shrink", "fused"))).getMessage());
        assertEquals("tpk.lmhead.backend=fastest: expected kernel, cublas or auto",
                assertThrows(IllegalArgumentException.class, () -> parse(Map.of("tpk.lmhead.backend", "fastest")))
                        .getMessage());
        assertEquals("tpk.ptx.source=disk: expected packaged, ptx or nvrtc",
                assertThrows(IllegalArgumentException.class, () -> parse(Map.of("tpk.ptx.source", "disk"))).getMessage());
        assertEquals("tpk.collective.checks=yes: expected true or false", assertThrows(IllegalArgumentException.class,
                () -> parse(Map.of("tpk.collective.checks", "yes"))).getMessage());
        assertEquals("tpk.selfcheck=maybe: expected true or false", assertThrows(IllegalArgumentException.class,
                () -> parse(Map.of("tpk.selfcheck", "maybe"))).getMessage());
    }

    @Test
    void theWithersChangeOneChoiceEach() {
        Tuning d = Tuning.defaults();
        assertEquals(Tuning.HopperGemm.OFF, d.withHopperGemm(Tuning.HopperGemm.OFF).hopperGemm());
        assertEquals(d.loraShrink(), d.withHopperGemm(Tuning.HopperGemm.OFF).loraShrink());
        assertEquals(Tuning.LoraShrink.SEPARATE, d.withLoraShrink(Tuning.LoraShrink.SEPARATE).loraShrink());
        assertEquals(Tuning.LmHeadBackend.AUTO, d.withLmHeadBackend(Tuning.LmHeadBackend.AUTO).lmHeadBackend());
        assertEquals(Tuning.PtxSource.NVRTC, d.withPtxSource(Tuning.PtxSource.NVRTC).ptxSource());
        assertEquals(true, d.withCollectiveChecks(true).collectiveChecks());
        assertEquals(false, d.withSelfCheck(false).selfCheck());
        assertEquals(d.hopperGemm(), d.withSelfCheck(false).hopperGemm());
    }

    @Test
    void twoCpuContextsInOneJvmCarryTheirOwnTuning() {
        Tuning separate = Tuning.defaults().withLoraShrink(Tuning.LoraShrink.SEPARATE);
        ExecutionContext a = ExecutionContext.create(Device.CPU, separate);
        ExecutionContext b = a.withTuning(Tuning.defaults());
        assertEquals(separate, a.tuning());
        assertEquals(Tuning.defaults(), b.tuning());
        assertNotSame(a, b);
        assertSame(ExecutionContext.cpu(), ExecutionContext.defaultFor(Device.CPU));
    }
}
