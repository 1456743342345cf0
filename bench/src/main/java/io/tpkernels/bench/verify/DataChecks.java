package io.tpkernels.bench.verify;

import io.tpkernels.ops.Cast;
import io.tpkernels.ops.Elementwise;
import io.tpkernels.ops.EmbeddingLookup;
import io.tpkernels.ops.VocabArgmax;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The kernels that move or transform data, on the device against the CPU: the embedding lookups (each word size,
 * masked and plain), the bad-id flag, argmax with NaN and ±0, casts, and the elementwise kernels.
 */
final class DataChecks {
    private DataChecks() {
    }

    /** Hidden sizes whose BF16 rows are 130, 132, 136 and 128 bytes: the lookup copies 2, 4, 8 and 16 at a time. */
    private static final int[][] WORDS = {{2, 65}, {4, 66}, {8, 68}, {16, 64}};

    static List<Check> checks(ExecutionContext gpu, boolean quick) {
        long vocab = quick ? 500 : 32000;
        int t = quick ? 33 : 257;
        List<Check> checks = new ArrayList<>();
        for (int[] word : WORDS) {
            for (boolean masked : new boolean[] {false, true}) {
                checks.add(new Check("embedding w" + word[0],
                        () -> embedding(gpu, word[0], word[1], vocab, t, masked)));
            }
        }
        checks.add(new Check("embedding bad-id flag", () -> badId(gpu, vocab)));
        checks.add(new Check("argmax", () -> argmax(gpu, quick)));
        for (DType[] pair : new DType[][] {{DType.F32, DType.BF16}, {DType.BF16, DType.F32}, {DType.F32, DType.F16},
                {DType.F16, DType.BF16}}) {
            checks.add(new Check("cast", () -> cast(gpu, pair[0], pair[1], quick)));
        }
        for (DType dtype : new DType[] {DType.BF16, DType.F32}) {
            checks.add(new Check("elementwise", () -> elementwise(gpu, dtype, quick)));
        }
        return checks;
    }

    /** A lookup whose ids fall inside and outside the shard {@code [vocab/4, vocab/2)} (masked) or anywhere (plain). */
    private static VerifyRow embedding(ExecutionContext gpu, int word, int h, long vocab, int t, boolean masked) {
        String path = "embedding " + (masked ? "masked" : "plain") + " w" + word;
        String shape = "T=" + t + " H=" + h + " V=" + vocab;
        long start = vocab / 4;
        long valid = vocab / 4;
        try (Operands ops = new Operands(gpu.device(), word * 31L + (masked ? 1 : 0))) {
            Tensor ids = ops.ids(t, vocab);
            Tensor weight = ops.host(DType.BF16, masked ? valid : vocab, h);
            Tensor want;
            Tensor got;
            if (masked) {
                want = ops.keep(EmbeddingLookup.masked(ExecutionContext.cpu(), ids, weight, start, valid, vocab));
                got = ops.keep(EmbeddingLookup.masked(gpu, ops.onDevice(ids), ops.onDevice(weight), start, valid,
                        vocab));
            } else {
                want = ops.keep(Tensor.allocate(ExecutionContext.cpu(), DType.BF16, t, h));
                EmbeddingLookup.plain(ExecutionContext.cpu(), ids, weight, want);
                got = ops.keep(Tensor.allocate(gpu, DType.BF16, t, h));
                EmbeddingLookup.plain(gpu, ops.onDevice(ids), ops.onDevice(weight), got);
            }
            String kernel = (masked ? "tpk_embedding_w" : "tpk_embedding_plain_w") + word;
            return VerifyRow.measured(path, kernel, shape, "BF16",
                    Deviation.relative(want.toFloatArray(), got.toFloatArray()), 0);
        }
    }

    /** An id past the vocabulary: the device flag must stop the result, naming the position and the id. */
    private static VerifyRow badId(ExecutionContext gpu, long vocab) {
        String shape = "T=9 V=" + vocab + ", id " + vocab + " at position 6";
        try (Operands ops = new Operands(gpu.device(), 5)) {
            long[] values = new long[9];
            for (int i = 0; i < values.length; i++) {
                values[i] = i * 7L % vocab;
            }
            values[6] = vocab;
            Tensor ids = ops.onDevice(ops.keep(Tensor.ofLongs(DType.I64, values, values.length)));
            Tensor weight = ops.onDevice(ops.host(DType.BF16, vocab, 16));
            Tensor out = ops.keep(Tensor.allocate(gpu, DType.BF16, values.length, 16));
            try {
                EmbeddingLookup.plain(gpu, ids, weight, out);
                out.toFloatArray();
                gpu.synchronize();
            } catch (IllegalArgumentException e) {
                boolean named = e.getMessage().contains("position 6") && e.getMessage().contains(Long.toString(vocab));
                return named ? new VerifyRow("embedding bad-id flag", "tpk_embedding_plain_w16", shape, "I64",
                        0, 0, VerifyRow.Status.pass, "")
                        : VerifyRow.failed("embedding bad-id flag", "tpk_embedding_plain_w16", shape, "I64",
                        "the error does not name the position and id: " + e.getMessage());
            }
            return VerifyRow.failed("embedding bad-id flag", "tpk_embedding_plain_w16", shape, "I64",
                    "a bad id was read back without an error");
        }
    }

    /** Rows with NaN, +0 and −0 and ties: ids and values exactly as the CPU picks them. */
    private static VerifyRow argmax(ExecutionContext gpu, boolean quick) {
        int t = 6;
        int s = quick ? 300 : 32000;
        String shape = "T=" + t + " S=" + s + " (NaN, ±0, ties)";
        try (Operands ops = new Operands(gpu.device(), 11)) {
            Tensor logits = ops.host(DType.F32, t, s);
            MemorySegment seg = logits.hostSegment();
            DType.F32.setFloat(seg, 7, Float.NaN);                 // row 0: a NaN
            for (int j = 0; j < s; j++) {                          // row 1: all zeros of both signs
                DType.F32.setFloat(seg, (long) s + j, j % 2 == 0 ? 0f : -0f);
            }
            DType.F32.setFloat(seg, 2L * s + 3, 9f);                // row 2: a tie at the maximum
            DType.F32.setFloat(seg, 2L * s + s - 2, 9f);
            long valid = s - 10;
            try (VocabArgmax.Local want = VocabArgmax.local(ExecutionContext.cpu(), logits, valid, 1000);
                 VocabArgmax.Local got = VocabArgmax.local(gpu, ops.onDevice(logits), valid, 1000)) {
                float[] wantIds = idsOf(want.ids());
                float[] gotIds = idsOf(got.ids());
                double error = Math.max(Deviation.relative(wantIds, gotIds),
                        Deviation.relative(want.values().toFloatArray(), got.values().toFloatArray()));
                return VerifyRow.measured("argmax", "tpk_argmax_f32", shape, "F32", error, 0);
            }
        }
    }

    private static VerifyRow cast(ExecutionContext gpu, DType from, DType to, boolean quick) {
        int n = quick ? 4099 : 1 << 20;
        String shape = "n=" + n;
        try (Operands ops = new Operands(gpu.device(), from.ordinal() * 7L + to.ordinal())) {
            Tensor src = ops.host(from, n);
            Tensor want = ops.keep(Cast.to(ExecutionContext.cpu(), src, to));
            Tensor got = ops.keep(Cast.to(gpu, ops.onDevice(src), to));
            return VerifyRow.measured("cast", "tpk_cast_*", shape, from + " -> " + to,
                    Deviation.relative(want.toFloatArray(), got.toFloatArray()), 0);
        }
    }

    /** SiLU(gate)·up, then + a residual, + a bias, and × an F32 column scale, each against the CPU's. */
    private static VerifyRow elementwise(ExecutionContext gpu, DType dtype, boolean quick) {
        int t = quick ? 7 : 64;
        int n = quick ? 130 : 4096;
        String shape = "T=" + t + " N=" + n;
        try (Operands ops = new Operands(gpu.device(), 3 + dtype.ordinal())) {
            Tensor gate = ops.host(dtype, t, n);
            Tensor up = ops.host(dtype, t, n);
            Tensor residual = ops.host(dtype, t, n);
            Tensor bias = ops.host(dtype, n);
            Tensor scale = ops.host(DType.F32, n);
            Tensor want = ops.keep(Elementwise.siluMul(ExecutionContext.cpu(), gate, up));
            Elementwise.addInPlace(ExecutionContext.cpu(), want, residual);
            Elementwise.addBiasInPlace(ExecutionContext.cpu(), want, bias);
            Elementwise.scaleColumnsInPlace(ExecutionContext.cpu(), want, scale);
            Tensor got = ops.keep(Elementwise.siluMul(gpu, ops.onDevice(gate), ops.onDevice(up)));
            Elementwise.addInPlace(gpu, got, ops.onDevice(residual));
            Elementwise.addBiasInPlace(gpu, got, ops.onDevice(bias));
            Elementwise.scaleColumnsInPlace(gpu, got, ops.onDevice(scale));
            return VerifyRow.measured("elementwise (silu·mul, add, bias, column scale)", "tpk_silu_mul_* and others",
                    shape, dtype.toString(), Deviation.relative(want.toFloatArray(), got.toFloatArray()),
                    Deviation.tolerance(dtype));
        }
    }

    /** I64 ids as floats (exact below 2^24, as every id here is), to compare like any other result. */
    private static float[] idsOf(Tensor ids) {
        try (Tensor host = ids.copyTo(Device.CPU)) {
            float[] f = new float[Math.toIntExact(host.numel())];
            for (int i = 0; i < f.length; i++) {
                f[i] = host.hostSegment().getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
            }
            return f;
        }
    }
}
