package io.tpkernels.bench.cases;

import io.tpkernels.ops.Cast;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Tensor;
import java.util.List;
import java.util.function.Consumer;

/** The dtype cast, F32 to BF16 and back: bandwidth-bound, one rounding per element; no baseline but the copy. */
final class CastCase implements KernelCase {
    private static final DType[][] PAIRS = {{DType.F32, DType.BF16}, {DType.BF16, DType.F32}};

    private record Inputs(Tensor src, Tensor dst) {
    }

    @Override
    public String name() {
        return "cast";
    }

    private static long[] elements(Bench bench) {
        if (bench.quick()) {
            return new long[] {1000};
        }
        return bench.isCuda() ? new long[] {1L << 20, 1L << 26} : new long[] {1L << 20, 1L << 24};
    }

    @Override
    public void measure(Bench bench, Consumer<Result> out) {
        for (DType[] pair : PAIRS) {
            for (long n : elements(bench)) {
                try (Tensors mem = bench.tensors(n)) {
                    out.accept(measure(bench, mem, pair[0], pair[1], n));
                }
            }
        }
    }

    private Result measure(Bench bench, Tensors mem, DType from, DType to, long n) {
        long bytes = n * (from.byteSize() + to.byteSize());
        int count = bench.setsFor(bytes);
        Tensor src = mem.floats(from, count * n);
        Tensor dst = mem.empty(to, count * n);
        Rotation<Inputs> sets = Rotation.of(count,
                i -> new Inputs(src.rows(i * n, (i + 1) * n), dst.rows(i * n, (i + 1) * n)));
        double ms = bench.medianMillis(i -> {
            Inputs in = sets.get(i);
            Cast.into(bench.exec(), in.src(), in.dst());
        });
        return new Result(name(), Result.Role.kernel, bench.backend(), from + "->" + to, Shape.of("elements", n), ms,
                bytes, n, List.of());
    }
}
